package main

// FerretDB 1.24's SQLite handler creates its _id index on the expression
// `_ferretdb_sjson->"_id"` but looks documents up with `_ferretdb_sjson->'$._id'`, which SQLite
// does not match to that index: every lookup by _id reads the table from the start (measured:
// 250 ms for the newest of 20,000 documents, 1 ms with the index below). The front door adds an
// index on the expression FerretDB queries by to each collection's table. FerretDB does not know
// of it (its index list comes from its own metadata), and a dropped table takes it along.

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // FerretDB's own SQLite driver, already in the binary
)

const idPathSuffix = "_ecom_id_path"

type idIndexes struct {
	dir  string
	dbs  map[string]*sql.DB
	done map[string]bool // "db.collection" whose table has the index
}

func newIDIndexes(dir string) *idIndexes {
	return &idIndexes{dir: dir, dbs: map[string]*sql.DB{}, done: map[string]bool{}}
}

// ensureAll indexes every collection of every database in the directory (at start).
func (x *idIndexes) ensureAll() error {
	files, err := filepath.Glob(filepath.Join(x.dir, "*.sqlite"))
	if err != nil {
		return err
	}
	for _, file := range files {
		if err := x.ensure(strings.TrimSuffix(filepath.Base(file), ".sqlite"), ""); err != nil {
			return err
		}
	}
	return nil
}

// ensure indexes the tables of database db (only if collection is new to it, when given).
// The caller holds the write lock, so FerretDB is not writing meanwhile.
func (x *idIndexes) ensure(db, collection string) error {
	if collection != "" && x.done[db+"."+collection] {
		return nil
	}
	conn, err := x.open(db)
	if conn == nil || err != nil {
		return err
	}
	rows, err := conn.Query(`SELECT name, table_name FROM _ferretdb_collections`)
	if err != nil {
		return nil // no collection yet
	}
	tables := map[string]string{}
	for rows.Next() {
		var name, table string
		if err := rows.Scan(&name, &table); err == nil {
			tables[name] = table
		}
	}
	rows.Close()
	for name, table := range tables {
		if x.done[db+"."+name] {
			continue
		}
		statement := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, table+idPathSuffix, table)
		if _, err := conn.Exec(statement); err != nil {
			return fmt.Errorf("indexing %s.%s: %w", db, name, err)
		}
		x.done[db+"."+name] = true
	}
	return nil
}

// forget: the database's collections may have new tables now (a drop or a rename).
func (x *idIndexes) forget(db string) {
	for key := range x.done {
		if strings.HasPrefix(key, db+".") {
			delete(x.done, key)
		}
	}
}

func (x *idIndexes) open(db string) (*sql.DB, error) {
	if conn, ok := x.dbs[db]; ok {
		return conn, nil
	}
	file := filepath.Join(x.dir, db+".sqlite")
	if _, err := os.Stat(file); err != nil {
		return nil, nil // the database has no file yet
	}
	conn, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	x.dbs[db] = conn
	return conn, nil
}
