// The enforcement-point pattern: load a signed bundle at start (refuse everything if it
// fails), then per request decide, branch on allow / approval / deny, read grants and
// approvals, and log the decision.
//
//	go run ./example BUNDLE PUBLIC_KEY_PEM INPUT_JSON
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"pave.internal/pave"
)

func main() {
	if len(os.Args) != 4 {
		log.Fatal("usage: example BUNDLE PUBLIC_KEY_PEM INPUT_JSON")
	}
	// 1. At start-up: no verified policy, no service.
	bundle, err := pave.Open(os.Args[1], pave.WithPublicKeyFile(os.Args[2]))
	if err != nil {
		log.Fatalf("no policy, refusing every request: %v", err)
	}
	defer bundle.Close()

	// 2. Per request.
	input, err := os.ReadFile(os.Args[3])
	if err != nil {
		log.Fatal(err)
	}
	d, err := bundle.Decide(context.Background(), input)
	if err != nil {
		log.Printf("decision failed, denying: %v", err)
		os.Exit(1)
	}
	log.Printf("pave decision %s", d.Raw) // rules, exceptions, bundle digest: keep for audit
	switch d.Outcome {
	case pave.Allow:
		fmt.Printf("allow: grants %v\n", d.Grants()) // what to hand out: TTLs, scopes
	case pave.Approval:
		for _, a := range d.Approvals() {
			fmt.Printf("approval: %d of %v (rule %s)\n", a.Quorum, a.Groups, a.Rule)
		}
		os.Exit(3)
	default:
		fmt.Printf("deny: %v %v\n", d.Reasons(), d.Errors())
		os.Exit(2)
	}
}
