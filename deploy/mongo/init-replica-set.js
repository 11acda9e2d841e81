// One-shot (compose service `mongo-init`): make the single mongod a one-member replica set.
// Idempotent: an already initiated set is left alone. Waits (bounded) until it has a primary.
const host = process.env.MONGO_RS_HOST || "mongo:27017";
const name = process.env.MONGO_RS_NAME || "rs0";
try {
  rs.status();
  print(`replica set ${name} already initiated`);
} catch (err) {
  if (err.codeName !== "NotYetInitialized") throw err;
  rs.initiate({ _id: name, members: [{ _id: 0, host: host }] });
  print(`replica set ${name} initiated with ${host}`);
}
for (let i = 0; i < 60; i++) {
  if (db.hello().isWritablePrimary) { print("primary ready"); quit(0); }
  sleep(1000);
}
print("no primary after 60 s");
quit(1);
