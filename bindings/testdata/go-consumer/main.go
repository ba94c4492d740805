// A Go program consuming the binding the documented way (bindings/go/README.md): the
// module pave.internal/pave from libpave-dev's /usr/share/gocode/src, through a replace
// directive. scripts/bindings-test.sh builds it against the .deb unpacked with dpkg -x.
// usage: go-consumer BUNDLE KEY.pub.pem INPUT.json   (prints the decision JSON)
package main

import (
	"context"
	"fmt"
	"os"

	"pave.internal/pave"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: go-consumer BUNDLE KEY.pub.pem INPUT.json")
		os.Exit(2)
	}
	bundle, err := pave.Open(os.Args[1], pave.WithPublicKeyFile(os.Args[2]))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer bundle.Close()
	input, err := os.ReadFile(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d, err := bundle.Decide(context.Background(), input)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(d.Raw)
}
