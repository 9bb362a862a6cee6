package dynamo_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

// The transfer model: the sequential specification of the Billing role
// that every concurrent history must be explainable by.

type transferInput struct {
	Op                string // request, accept, decline, cancel, holder
	Actor, Recipient  string // request: who asks, to whom
	ID, TInit, TRecip string // answers: the transfer and its parties
}

type transferOutput struct {
	OK      bool
	ID      string      // request: the new transfer
	Rule    domain.Rule // refusals
	Holder  string      // holder reads
	Unknown bool        // the store gave up (ErrUnavailable): it may or may not have happened
}

type billingState struct {
	Holder                   string
	PendingID, PInit, PRecip string
}

func (s billingState) step(in transferInput, out transferOutput) []billingState {
	if out.Unknown {
		// Either it did not happen, or it happened as a success would.
		succ := s.step(in, transferOutput{OK: true, ID: out.ID})
		return append([]billingState{s}, succ...)
	}
	switch in.Op {
	case "holder":
		if out.Holder == s.Holder {
			return []billingState{s}
		}
	case "request":
		isHolder := in.Actor == s.Holder
		badRecipient := in.Recipient == in.Actor || in.Recipient == s.Holder
		switch {
		case out.OK:
			if isHolder && !badRecipient && s.PendingID == "" {
				return []billingState{{Holder: s.Holder, PendingID: out.ID, PInit: in.Actor, PRecip: in.Recipient}}
			}
		case out.Rule == domain.RuleNotBillingHolder:
			if !isHolder {
				return []billingState{s}
			}
		case out.Rule == domain.RuleIneligibleRecipient:
			if isHolder && badRecipient {
				return []billingState{s}
			}
		case out.Rule == domain.RuleTransferPending:
			if isHolder && !badRecipient && s.PendingID != "" {
				return []billingState{s}
			}
		}
	case "accept", "decline", "cancel":
		party := in.TRecip
		wrongRule := domain.RuleNotRecipient
		if in.Op == "cancel" {
			party, wrongRule = in.TInit, domain.RuleNotInitiator
		}
		isPending := s.PendingID == in.ID
		switch {
		case out.OK:
			if in.Actor == party && isPending {
				next := billingState{Holder: s.Holder}
				if in.Op == "accept" {
					next.Holder = in.TRecip
				}
				return []billingState{next}
			}
		case out.Rule == wrongRule:
			if in.Actor != party {
				return []billingState{s}
			}
		case out.Rule == domain.RuleTransferClosed:
			if in.Actor == party && !isPending {
				return []billingState{s}
			}
		}
	}
	return nil
}

func billingModel(initialHolder string) porcupine.Model {
	m := &porcupine.NondeterministicModel{
		Init: func() []interface{} { return []interface{}{billingState{Holder: initialHolder}} },
		Step: func(state, input, output interface{}) []interface{} {
			var out []interface{}
			for _, s := range state.(billingState).step(input.(transferInput), output.(transferOutput)) {
				out = append(out, s)
			}
			return out
		},
	}
	return m.ToModel()
}

// TestTransferHistoriesAreLinearizable runs clients issuing requests,
// answers and reads concurrently against DynamoDB Local, records the
// history and checks it against the model with porcupine.
func TestTransferHistoriesAreLinearizable(t *testing.T) {
	b := dynamotest.LocalOnly(t)
	w := newWorld(t, b)
	ctx := context.Background()
	members := []string{"dina", "sari", "ravi", "omar"}
	for _, m := range members[1:] {
		if _, err := w.s.SetRole(ctx, w.org, nil, m, domain.RoleOwner); err != nil {
			t.Fatal(err)
		}
	}

	for history := range 3 {
		start := time.Now()
		initialHolder := w.holder(t)
		var (
			mu        sync.Mutex
			ops       []porcupine.Operation
			transfers []transferInput // known transfers, for answers
		)
		record := func(client int, in transferInput, call time.Time, out transferOutput) {
			mu.Lock()
			defer mu.Unlock()
			ops = append(ops, porcupine.Operation{ClientId: client, Input: in, Call: int64(call.Sub(start)), Output: out, Return: int64(time.Since(start))})
			if in.Op == "request" && out.OK {
				transfers = append(transfers, transferInput{ID: out.ID, TInit: in.Actor, TRecip: in.Recipient})
			}
		}
		outputOf := func(err error) transferOutput {
			var r *domain.Refusal
			switch {
			case err == nil:
				return transferOutput{OK: true}
			case errors.As(err, &r):
				return transferOutput{Rule: r.Rule}
			case errors.Is(err, domain.ErrUnavailable):
				return transferOutput{Unknown: true}
			}
			t.Errorf("unexpected error: %v", err)
			return transferOutput{Unknown: true}
		}

		var wg sync.WaitGroup
		for client := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(history), uint64(client)))
				for range 14 {
					call := time.Now()
					switch p := rng.IntN(10); {
					case p < 2:
						org, err := w.s.GetOrg(ctx, w.org)
						if err != nil {
							t.Error(err)
							continue
						}
						record(client, transferInput{Op: "holder"}, call, transferOutput{Holder: org.BillingHolderID})
					case p < 5:
						actor := members[rng.IntN(len(members))]
						if rng.IntN(3) > 0 {
							if org, err := w.s.GetOrg(ctx, w.org); err == nil {
								actor = org.BillingHolderID
							}
							call = time.Now()
						}
						in := transferInput{Op: "request", Actor: actor, Recipient: members[rng.IntN(len(members))]}
						tr, _, err := w.s.RequestTransfer(ctx, w.org, in.Actor, in.Recipient)
						out := outputOf(err)
						out.ID = tr.ID
						record(client, in, call, out)
					default:
						mu.Lock()
						if len(transfers) == 0 {
							mu.Unlock()
							continue
						}
						known := transfers[len(transfers)-1-rng.IntN(min(len(transfers), 3))]
						mu.Unlock()
						in := known
						in.Op = []string{"accept", "decline", "cancel"}[rng.IntN(3)]
						in.Actor = in.TRecip
						if in.Op == "cancel" {
							in.Actor = in.TInit
						}
						if rng.IntN(5) == 0 {
							in.Actor = members[rng.IntN(len(members))]
						}
						call = time.Now()
						var err error
						switch in.Op {
						case "accept":
							_, err = w.s.AcceptTransfer(ctx, w.org, in.ID, in.Actor)
						case "decline":
							_, err = w.s.DeclineTransfer(ctx, w.org, in.ID, in.Actor)
						default:
							_, err = w.s.CancelTransfer(ctx, w.org, in.ID, in.Actor)
						}
						record(client, in, call, outputOf(err))
					}
				}
			}()
		}
		wg.Wait()

		res := porcupine.CheckOperationsTimeout(billingModel(initialHolder), ops, 30*time.Second)
		if res != porcupine.Ok {
			t.Fatalf("history %d (%d operations) is not linearizable: %s", history, len(ops), res)
		}
		var oks int
		for _, op := range ops {
			if op.Output.(transferOutput).OK {
				oks++
			}
		}
		t.Logf("history %d: %d operations, %d succeeded, linearizable", history, len(ops), oks)
		// Exactly one holder, an active member, after every history.
		org, err := w.s.GetOrg(ctx, w.org)
		if err != nil {
			t.Fatal(err)
		}
		if h := w.member(t, org.BillingHolderID); !h.Active() {
			t.Fatalf("holder %s is not an active member", h.ID)
		}
		// Close what is pending so the next history starts clean.
		if p, _ := w.s.PendingTransfer(ctx, w.org); p != nil {
			if _, err := w.s.CancelTransfer(ctx, w.org, p.ID, p.InitiatorID); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestModelRejectsWrongHistories shows the checker can fail: a history in
// which two requests both succeed while neither is answered, and one in
// which a holder read contradicts an accepted transfer.
func TestModelRejectsWrongHistories(t *testing.T) {
	two := []porcupine.Operation{
		{ClientId: 0, Input: transferInput{Op: "request", Actor: "dina", Recipient: "sari"}, Call: 0, Output: transferOutput{OK: true, ID: "t1"}, Return: 10},
		{ClientId: 1, Input: transferInput{Op: "request", Actor: "dina", Recipient: "ravi"}, Call: 20, Output: transferOutput{OK: true, ID: "t2"}, Return: 30},
	}
	if porcupine.CheckOperations(billingModel("dina"), two) {
		t.Error("two pending transfers were accepted by the model")
	}
	stale := []porcupine.Operation{
		{ClientId: 0, Input: transferInput{Op: "request", Actor: "dina", Recipient: "sari"}, Call: 0, Output: transferOutput{OK: true, ID: "t1"}, Return: 10},
		{ClientId: 0, Input: transferInput{Op: "accept", Actor: "sari", ID: "t1", TInit: "dina", TRecip: "sari"}, Call: 20, Output: transferOutput{OK: true}, Return: 30},
		{ClientId: 1, Input: transferInput{Op: "holder"}, Call: 40, Output: transferOutput{Holder: "dina"}, Return: 50},
	}
	if porcupine.CheckOperations(billingModel("dina"), stale) {
		t.Error("a stale holder read after an accept was accepted by the model")
	}
	good := append(stale[:2:2], porcupine.Operation{ClientId: 1, Input: transferInput{Op: "holder"}, Call: 40, Output: transferOutput{Holder: "sari"}, Return: 50})
	if !porcupine.CheckOperations(billingModel("dina"), good) {
		t.Error("a correct history was rejected")
	}
}
