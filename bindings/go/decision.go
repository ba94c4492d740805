package pave

import (
	"encoding/json"
	"strings"
	"sync"
)

// Outcome is "allow", "approval" or "deny".
type Outcome string

const (
	Allow    Outcome = "allow"
	Approval Outcome = "approval"
	Deny     Outcome = "deny"
)

// Decision is one decision (SPEC §7.4). Outcome is read at once; Details (and the
// accessors built on it) parse Raw the first time they are used. Safe for concurrent use.
type Decision struct {
	Outcome Outcome
	Raw     string // the decision JSON: log it

	once    sync.Once
	details *Details
	err     error
}

// Details is the whole decision JSON.
type Details struct {
	Decision    Outcome           `json:"decision"`
	RequestType *string           `json:"request_type"`
	Rules       []string          `json:"rules"`
	DenyRules   []string          `json:"deny_rules"`
	Exceptions  []Exception       `json:"exceptions"`
	Approvals   []ApprovalNeeded  `json:"approvals"`
	Grants      map[string]any    `json:"grants"`
	Reasons     []string          `json:"reasons"`
	Errors      []DecisionError   `json:"errors"`
	Bundle      BundleRef         `json:"bundle"`
	Trace       []json.RawMessage `json:"trace,omitempty"`
}

// Exception is an exception that lifted deny rules.
type Exception struct {
	ID     string `json:"id"`
	Lifts  string `json:"lifts"`
	Until  string `json:"until,omitempty"`
	Owner  string `json:"owner,omitempty"`
	Ticket string `json:"ticket,omitempty"`
}

// ApprovalNeeded says whom to ask: quorum approvals from members of groups.
type ApprovalNeeded struct {
	Rule   string   `json:"rule"`
	Groups []string `json:"groups"`
	Quorum int      `json:"quorum"`
}

// DecisionError is an input or evaluation problem.
type DecisionError struct {
	Code    string `json:"code"`
	Path    string `json:"path,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
}

// BundleRef identifies the bundle that decided.
type BundleRef struct {
	Name     string `json:"name"`
	Revision string `json:"revision"`
	Digest   string `json:"digest"`
}

func newDecision(raw string) *Decision {
	// The JSON always starts with {"decision":"<outcome>"
	const prefix = `{"decision":"`
	d := &Decision{Raw: raw, Outcome: Deny}
	if strings.HasPrefix(raw, prefix) {
		if end := strings.IndexByte(raw[len(prefix):], '"'); end >= 0 {
			d.Outcome = Outcome(raw[len(prefix) : len(prefix)+end])
		}
	}
	return d
}

// Details parses the decision JSON (once).
func (d *Decision) Details() (*Details, error) {
	d.once.Do(func() {
		d.details = new(Details)
		d.err = json.Unmarshal([]byte(d.Raw), d.details)
	})
	return d.details, d.err
}

func (d *Decision) parsed() *Details { det, _ := d.Details(); return det }

// Allowed reports whether the outcome is allow.
func (d *Decision) Allowed() bool { return d.Outcome == Allow }

// Rules are the matching allow/approve rules.
func (d *Decision) Rules() []string { return d.parsed().Rules }

// DenyRules are the matching deny rules (lifted or not).
func (d *Decision) DenyRules() []string { return d.parsed().DenyRules }

// Exceptions are the exceptions that lifted deny rules.
func (d *Decision) Exceptions() []Exception { return d.parsed().Exceptions }

// Approvals say whom to ask when Outcome is approval.
func (d *Decision) Approvals() []ApprovalNeeded { return d.parsed().Approvals }

// Grants are what to hand out (TTLs, scopes, quotas), empty on deny.
func (d *Decision) Grants() map[string]any { return d.parsed().Grants }

// Reasons are the deny reasons.
func (d *Decision) Reasons() []string { return d.parsed().Reasons }

// Errors are the input and evaluation problems.
func (d *Decision) Errors() []DecisionError { return d.parsed().Errors }

// Bundle identifies the bundle that decided.
func (d *Decision) Bundle() BundleRef { return d.parsed().Bundle }
