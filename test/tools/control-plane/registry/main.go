// Command registry serves an in-memory OCI registry over TLS, for the control-plane
// end-to-end tests: the tests push pgplane's Crossplane packages to it and Crossplane's
// package manager pulls them from it. Nothing is written to disk; stopping it forgets
// every image.
//
//	registry --address 127.0.0.1:5000 --cert tls.crt --key tls.key
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	address := flag.String("address", "127.0.0.1:5000", "host:port to listen on")
	cert := flag.String("cert", "", "PEM server certificate (its SANs must name the host clients use)")
	key := flag.String("key", "", "PEM private key of --cert")
	verbose := flag.Bool("verbose", false, "log every request to stderr")
	flag.Parse()
	if *cert == "" || *key == "" {
		fmt.Fprintln(os.Stderr, "registry: --cert and --key are required (the registry only speaks TLS)")
		os.Exit(2)
	}

	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatalf("registry: cannot listen on %s: %v", *address, err)
	}
	// Quiet by default: one log line per request would drown the test output.
	requests := log.New(io.Discard, "", 0)
	if *verbose {
		requests = log.New(os.Stderr, "registry: ", log.LstdFlags)
	}
	server := &http.Server{
		Handler:           registry.New(registry.Logger(requests)),
		ReadHeaderTimeout: 30 * time.Second,
	}
	// The test waits for this line before pushing.
	fmt.Printf("registry: serving https://%s\n", listener.Addr())
	if err := server.ServeTLS(listener, *cert, *key); err != nil {
		log.Fatalf("registry: %v", err)
	}
}
