// Command ferretdb-local serves the MongoDB wire protocol on a loopback port over a
// directory of SQLite files: the pipeline's local store (DESIGN.md §4). It embeds
// FerretDB's Go package behind a front door (front.go) that gives single-document writes
// the atomicity they have on MongoDB, so `make engines` builds it with the Go toolchain alone.
//
// It prints one line "listening mongodb://HOST:PORT/" once it accepts connections, and stops
// on SIGTERM or SIGINT after closing every connection and the SQLite files.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to serve the MongoDB wire protocol on")
	dir := flag.String("sqlite-dir", "data", "directory of the SQLite files (one per database); created if missing")
	level := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var logLevel slog.Level
	if err := logLevel.UnmarshalText([]byte(*level)); err != nil {
		fail("bad -log-level %q: %v", *level, err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))

	abs, err := filepath.Abs(*dir)
	if err != nil {
		fail("bad -sqlite-dir %q: %v", *dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		fail("cannot create %s: %v", abs, err)
	}
	// FerretDB itself listens on a private Unix socket; only the front door faces clients.
	socketDir, err := os.MkdirTemp("", "ferretdb-local-")
	if err != nil {
		fail("cannot create a socket directory: %v", err)
	}
	defer os.RemoveAll(socketDir)
	socket := filepath.Join(socketDir, "ferretdb.sock")

	server, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: socket},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		fail("%v", err)
	}
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		fail("cannot listen on %s: %v", *listen, err)
	}

	indexes := newIDIndexes(abs)
	if err := indexes.ensureAll(); err != nil {
		fail("%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- server.Run(ctx) }()
	go (&front{backend: socket, indexes: indexes, logger: logger}).serve(ctx, listener)
	fmt.Printf("listening mongodb://%s/\n", listener.Addr())
	if err := <-done; err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ferretdb-local: "+format+"\n", args...)
	os.Exit(1)
}
