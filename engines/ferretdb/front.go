package main

// The front door: clients connect here, and each connection is relayed to FerretDB's own
// (Unix socket) listener. It closes two gaps of FerretDB 1.24's SQLite handler, invisibly to
// clients, so that code written for MongoDB behaves the same here:
//
//  1. A write is read-modify-write without isolation: of two concurrent `$inc`s on one
//     document one can be lost, and two `findAndModify` claims of one lease can both win.
//     The front door runs write commands one at a time.
//  2. Only a filter that is exactly {_id: v} uses the _id index; any other filter reads the
//     whole table, so a guarded write such as {_id: v, appliedEvents: {$ne: e}} costs more
//     the more documents there are. A single-document write whose filter names _id and more
//     is first checked on that one document (an aggregate whose first $match is {_id: v}, which
//     FerretDB runs on the index); on a match it is sent on with the filter {_id: v}, otherwise
//     it is answered "nothing matched" here. Both happen under the write lock, so no other write
//     can come between the check and the write. An upsert that matches nothing is sent on with
//     {_id: v} too when no document has that _id and the rest of the filter adds no field to the
//     new document (a guarded first write: payments' outcome); otherwise FerretDB answers it.

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true, "findandmodify": true,
	"create": true, "createIndexes": true, "drop": true, "dropDatabase": true, "dropIndexes": true,
	"renameCollection": true, "collMod": true,
}

type front struct {
	backend       string // FerretDB's Unix socket
	indexes       *idIndexes
	logger        *slog.Logger
	writes        sync.Mutex
	ids           atomic.Int32
	anchors       atomic.Int64 // writes sent on with an {_id} filter after their check
	upsertAnchors atomic.Int64 // of those, upserts that insert (no document had the _id)
}

func (f *front) serve(ctx context.Context, ln net.Listener) {
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				f.logger.Error("accept failed", "error", err)
			}
			return
		}
		go f.relay(conn)
	}
}

func (f *front) relay(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("unix", f.backend)
	if err != nil {
		f.logger.Error("cannot reach FerretDB", "error", err)
		return
	}
	defer server.Close()
	fromClient, fromServer := bufio.NewReader(client), bufio.NewReader(server)
	for {
		request, err := readMessage(fromClient)
		if err != nil {
			return
		}
		replies, err := f.exchange(request, server, fromServer)
		if err != nil {
			return
		}
		for _, reply := range replies {
			if reply.write(client) != nil {
				return
			}
		}
	}
}

// exchange sends one request to FerretDB (a write under the lock) and returns its replies.
func (f *front) exchange(request *message, server net.Conn, fromServer *bufio.Reader) ([]*message, error) {
	body, err := parseOpMsg(request)
	if err == nil && body.commandName() == statsCommand {
		answer := f.stats()
		answer.responseTo = request.requestID
		return []*message{answer}, nil
	}
	if err == nil && writeCommands[body.commandName()] {
		f.writes.Lock()
		defer f.writes.Unlock()
		defer f.indexNew(body)
		answer, rewritten, err := f.anchor(body, server, fromServer)
		if err != nil {
			return nil, err
		}
		if answer != nil {
			answer.responseTo = request.requestID
			return []*message{answer}, nil
		}
		if rewritten != nil {
			request.body = rewritten
		}
	}
	if err := request.write(server); err != nil {
		return nil, err
	}
	if request.flags()&flagMoreToCome != 0 {
		return nil, nil
	}
	var replies []*message
	for {
		reply, err := readMessage(fromServer)
		if err != nil {
			return nil, err
		}
		replies = append(replies, reply)
		if reply.flags()&flagMoreToCome == 0 {
			return replies, nil
		}
	}
}

// indexNew gives a collection that a write may have created the _id index of index.go.
func (f *front) indexNew(body *opMsgBody) {
	name := body.commandName()
	db, _ := body.command.Lookup("$db").StringValueOK()
	collection, _ := body.command.Lookup(name).StringValueOK()
	if name == "drop" || name == "dropDatabase" || name == "renameCollection" {
		f.indexes.forget(db)
		if name == "renameCollection" { // {renameCollection: "db.from", to: "db.to"}, run on admin
			to, _ := body.command.Lookup("to").StringValueOK()
			db, collection, _ = strings.Cut(to, ".")
		} else {
			return
		}
	}
	if err := f.indexes.ensure(db, collection); err != nil {
		f.logger.Error("cannot index _id", "db", db, "collection", collection, "error", err)
	}
}

// anchor applies gap 2: (an answer to send instead, or a new request body, or neither).
func (f *front) anchor(body *opMsgBody, server net.Conn, fromServer *bufio.Reader) (*message, []byte, error) {
	name := body.commandName()
	shape, ok := filtered[name]
	if !ok {
		return nil, nil, nil
	}
	filterKey := shape.filter
	statement, put := body.command, func(d bson.Raw) { body.command = d }
	if shape.list != "" {
		if statement, put, ok = body.single(shape.list); !ok {
			return nil, nil, nil
		}
	}
	if !singleDocument(name, statement) {
		return nil, nil, nil
	}
	filter, ok := statement.Lookup(filterKey).DocumentOK()
	if !ok {
		return nil, nil, nil
	}
	id, ok := idOf(filter)
	if !ok {
		return nil, nil, nil
	}
	db, _ := body.command.Lookup("$db").StringValueOK()
	collection, _ := body.command.Lookup(name).StringValueOK()
	matched, err := f.matches(server, fromServer, db, collection, id, filter)
	if err != nil || matched == nil {
		return nil, nil, err // the check itself failed: let FerretDB answer the original
	}
	if !*matched && upsert(statement) {
		// No match inserts. When no document has the _id at all and the rest of the filter adds no
		// field to the inserted document, {_id: v} inserts the same document, found on the index.
		// A document that has the _id but does not match is left to FerretDB (it answers as MongoDB).
		exists, err := f.matches(server, fromServer, db, collection, id, anyDocument)
		if err != nil || exists == nil || *exists || !insertNeutral(filter) {
			return nil, nil, err
		}
		f.upsertAnchors.Add(1)
	} else if !*matched {
		return f.nothingMatched(name), nil, nil
	}
	rewritten, err := replaceKey(statement, filterKey, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return nil, nil, nil
	}
	put(rewritten)
	f.anchors.Add(1)
	return nil, body.encode(), nil
}

// filtered: where each write command keeps its statements and their filter.
var filtered = map[string]struct{ list, filter string }{
	"update": {"updates", "q"}, "delete": {"deletes", "q"},
	"findAndModify": {"", "query"}, "findandmodify": {"", "query"},
}

var anyDocument = func() bson.Raw { empty, _ := bson.Marshal(bson.D{}); return empty }()

func upsert(statement bson.Raw) bool {
	upsert, _ := statement.Lookup("upsert").BooleanOK()
	return upsert
}

// insertNeutral: conditions besides _id that put no field into an upsert's new document (operators
// that compare or test presence; not equality, $eq, $in, $all or $and/$or/$nor, which may).
func insertNeutral(filter bson.Raw) bool {
	elements, err := filter.Elements()
	if err != nil {
		return false
	}
	for _, element := range elements {
		if element.Key() == "_id" {
			continue
		}
		operators, ok := element.Value().DocumentOK()
		if !ok || strings.HasPrefix(element.Key(), "$") {
			return false
		}
		conditions, err := operators.Elements()
		if err != nil || len(conditions) == 0 {
			return false
		}
		for _, condition := range conditions {
			if !neutralOperators[condition.Key()] {
				return false
			}
		}
	}
	return true
}

var neutralOperators = map[string]bool{
	"$exists": true, "$ne": true, "$nin": true, "$gt": true, "$gte": true, "$lt": true, "$lte": true,
}

// singleDocument: a single-document write that a "nothing matched" answer describes exactly, or an
// upsert of one document.
func singleDocument(name string, statement bson.Raw) bool {
	switch name {
	case "update":
		multi, _ := statement.Lookup("multi").BooleanOK()
		return !multi
	case "delete":
		return isOne(statement.Lookup("limit"))
	default: // findAndModify: a sort would pick among several matches
		sort, ok := statement.Lookup("sort").DocumentOK()
		return !ok || len(sort) <= 5
	}
}

// idOf returns the filter's _id when it is a plain string or ObjectId and the filter says more.
func idOf(filter bson.Raw) (bson.RawValue, bool) {
	elements, err := filter.Elements()
	if err != nil || len(elements) < 2 {
		return bson.RawValue{}, false
	}
	id := filter.Lookup("_id")
	if id.Type != bsontype.String && id.Type != bsontype.ObjectID {
		return bson.RawValue{}, false
	}
	return id, true
}

// matches asks FerretDB whether document id matches filter, reading only that document.
func (f *front) matches(server net.Conn, fromServer *bufio.Reader, db, collection string, id bson.RawValue, filter bson.Raw) (*bool, error) {
	command, err := bson.Marshal(bson.D{
		{Key: "aggregate", Value: collection},
		{Key: "pipeline", Value: bson.A{
			bson.D{{Key: "$match", Value: bson.D{{Key: "_id", Value: id}}}},
			bson.D{{Key: "$match", Value: filter}},
			bson.D{{Key: "$limit", Value: 1}},
			bson.D{{Key: "$project", Value: bson.D{{Key: "_id", Value: 1}}}},
		}},
		{Key: "cursor", Value: bson.D{}},
		{Key: "$db", Value: db},
	})
	if err != nil {
		return nil, nil
	}
	request := &message{requestID: f.nextID(), opCode: opMsg, body: (&opMsgBody{command: command}).encode()}
	if err := request.write(server); err != nil {
		return nil, err
	}
	reply, err := readMessage(fromServer)
	if err != nil {
		return nil, err
	}
	body, err := parseOpMsg(reply)
	if err != nil {
		return nil, nil
	}
	if !isOne(body.command.Lookup("ok")) {
		return nil, nil
	}
	batch, ok := body.command.Lookup("cursor", "firstBatch").ArrayOK()
	if !ok {
		return nil, nil
	}
	values, _ := batch.Values()
	found := len(values) > 0
	return &found, nil
}

// statsCommand answers how many writes the front door sent on anchored to their _id (tests, diagnosis):
// {ecomFrontDoorStats: 1} -> {anchored, anchoredUpserts, ok}.
const statsCommand = "ecomFrontDoorStats"

func (f *front) stats() *message {
	command, _ := bson.Marshal(bson.D{{Key: "anchored", Value: f.anchors.Load()},
		{Key: "anchoredUpserts", Value: f.upsertAnchors.Load()}, {Key: "ok", Value: 1.0}})
	return &message{requestID: f.nextID(), opCode: opMsg, body: (&opMsgBody{command: command}).encode()}
}

func (f *front) nothingMatched(name string) *message {
	var answer bson.D
	switch name {
	case "update":
		answer = bson.D{{Key: "n", Value: int32(0)}, {Key: "nModified", Value: int32(0)}, {Key: "ok", Value: 1.0}}
	case "delete":
		answer = bson.D{{Key: "n", Value: int32(0)}, {Key: "ok", Value: 1.0}}
	default:
		answer = bson.D{
			{Key: "lastErrorObject", Value: bson.D{{Key: "n", Value: int32(0)}, {Key: "updatedExisting", Value: false}}},
			{Key: "value", Value: nil}, {Key: "ok", Value: 1.0},
		}
	}
	command, _ := bson.Marshal(answer)
	return &message{requestID: f.nextID(), opCode: opMsg, body: (&opMsgBody{command: command}).encode()}
}

// isOne: the value is the number 1, whatever its numeric type.
func isOne(value bson.RawValue) bool {
	switch value.Type {
	case bsontype.Double:
		return value.Double() == 1
	case bsontype.Int32, bsontype.Int64:
		return value.AsInt64() == 1
	}
	return false
}

func (f *front) nextID() int32 { return 1<<30 + f.ids.Add(1)&(1<<29-1) }

// single returns the one statement of a write's list (inline or as a document sequence) and a
// function that puts a replacement back; false when there is not exactly one.
func (b *opMsgBody) single(list string) (bson.Raw, func(bson.Raw), bool) {
	for i := range b.sequences {
		if b.sequences[i].identifier == list {
			if len(b.sequences[i].docs) != 1 {
				return nil, nil, false
			}
			seq := &b.sequences[i]
			return seq.docs[0], func(d bson.Raw) { seq.docs[0] = d }, true
		}
	}
	array, ok := b.command.Lookup(list).ArrayOK()
	if !ok {
		return nil, nil, false
	}
	values, err := array.Values()
	if err != nil || len(values) != 1 {
		return nil, nil, false
	}
	statement, ok := values[0].DocumentOK()
	if !ok {
		return nil, nil, false
	}
	return statement, func(d bson.Raw) {
		if command, err := replaceKey(b.command, list, bson.A{d}); err == nil {
			b.command = command
		}
	}, true
}

// replaceKey returns doc with the value of key replaced, every other element kept as it was.
func replaceKey(doc bson.Raw, key string, value any) (bson.Raw, error) {
	elements, err := doc.Elements()
	if err != nil {
		return nil, err
	}
	out := make(bson.D, 0, len(elements))
	for _, element := range elements {
		if element.Key() == key {
			out = append(out, bson.E{Key: key, Value: value})
		} else {
			out = append(out, bson.E{Key: element.Key(), Value: element.Value()})
		}
	}
	return bson.Marshal(out)
}
