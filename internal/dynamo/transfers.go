package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// The organization item carries the pending-transfer lock
// (pending_transfer_id). A request sets it only when absent, or when the
// pending transfer it names has passed its stored expiry; every outcome
// removes it in the same transaction that closes the transfer. So at most
// one transfer is pending per organization, whatever runs concurrently.

// The lock is released by setting it empty rather than removing it: the
// embedded back end does not implement REMOVE, and an empty id reads the
// same. Conditions accept both an absent and an empty lock.
const (
	noPending   = "(attribute_not_exists(pending_transfer_id) OR pending_transfer_id = :none)"
	releaseLock = "pending_transfer_id = :none, pending_expiry_ms = :zero"
)

// GetTransfer reads a transfer.
func (s *Store) GetTransfer(ctx context.Context, orgID, transferID string) (domain.Transfer, error) {
	return getDomain[transferItem](ctx, s, orgPK(orgID), transferSK(transferID), "transfer", transferID)
}

// PendingTransfer is the organization's pending transfer, or nil. One past
// its expiry is not pending, whether or not it has been swept.
func (s *Store) PendingTransfer(ctx context.Context, orgID string) (*domain.Transfer, error) {
	org, err := s.GetOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if org.PendingTransferID == "" {
		return nil, nil
	}
	t, err := s.GetTransfer(ctx, orgID, org.PendingTransferID)
	if err != nil {
		return nil, err
	}
	if t.Closed(s.now()) {
		return nil, nil
	}
	return &t, nil
}

// EligibleRecipients lists the members the transfer dialog offers to
// actorID: refused when actorID cannot start a transfer.
func (s *Store) EligibleRecipients(ctx context.Context, orgID, actorID string) ([]domain.Member, error) {
	org, err := s.GetOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	actor, err := s.GetMember(ctx, orgID, actorID)
	if err != nil {
		return nil, err
	}
	if err := domain.CanStartTransfer(org, actor); err != nil {
		return nil, err
	}
	members, err := s.ListMembers(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return domain.EligibleRecipients(org, actor, members), nil
}

// RequestTransfer starts a transfer of Billing from actorID to recipientID.
func (s *Store) RequestTransfer(ctx context.Context, orgID, actorID, recipientID string) (domain.Transfer, error) {
	for range retryDecisions {
		org, err := s.GetOrg(ctx, orgID)
		if err != nil {
			return domain.Transfer{}, err
		}
		actor, err := s.GetMember(ctx, orgID, actorID)
		if err != nil {
			return domain.Transfer{}, domain.Refusef(domain.RuleNotMember, "You are not a member of %s.", org.Name)
		}
		var recipient *domain.Member
		if r, err := s.GetMember(ctx, orgID, recipientID); err == nil {
			recipient = &r
		} else if !errors.Is(err, domain.ErrNotFound) {
			return domain.Transfer{}, err
		}
		var pending *domain.Transfer
		if org.PendingTransferID != "" {
			p, err := s.GetTransfer(ctx, orgID, org.PendingTransferID)
			if err != nil {
				return domain.Transfer{}, err
			}
			pending = &p
		}
		now := s.now().UTC()
		t, err := domain.DecideRequest(org, actor, recipientID, recipient, pending, s.memberNames(ctx, orgID), newID("tr_", now), now, s.transferTTL)
		if err != nil {
			return domain.Transfer{}, err
		}
		// The expiry is stored in milliseconds and every decision reads the
		// stored one: the caller gets that one too, not a finer instant.
		t.ExpiresAt = t.ExpiresAt.Truncate(time.Millisecond)

		lockVals := map[string]types.AttributeValue{
			":t": str(t.ID), ":exp": num(millis(t.ExpiresAt)), ":actor": str(actorID),
		}
		lockCond := "billing_holder = :actor AND " + noPending
		var items []types.TransactWriteItem
		if pending == nil {
			lockVals[":none"] = str("")
		} else {
			// The pending one has expired: this request replaces it and
			// closes it as expired in the same transaction.
			lockCond = "billing_holder = :actor AND pending_transfer_id = :old AND pending_expiry_ms <= :now"
			lockVals[":old"] = str(pending.ID)
			lockVals[":now"] = num(millis(now))
		}
		items = append(items,
			update{key: key(orgPK(orgID), skOrg), expr: "SET pending_transfer_id = :t, pending_expiry_ms = :exp", cond: lockCond, vals: lockVals}.item(),
			memberCheck(orgID, actorID, "#r = :owner AND #s = :active", map[string]types.AttributeValue{":owner": str(string(domain.RoleOwner))}),
			memberCheck(orgID, recipientID, "#s = :active", nil),
			putNew(marshal(newTransferItem(t))),
			s.auditPut(orgID, now, actorID, domain.ActionTransferRequested, t.ID, actorID, recipientID, "to "+recipientID),
		)
		if pending != nil {
			items = append(items, s.closeTransferItems(*pending, domain.TransferExpired, "", domain.SystemActor, now, true)...)
		}
		err = s.transact(ctx, items)
		var tc *txCanceled
		if errors.As(err, &tc) {
			continue // the holder, a role or the lock changed meanwhile: decide again
		}
		if err != nil {
			return domain.Transfer{}, err
		}
		return t, nil
	}
	return domain.Transfer{}, raced("transfer request")
}

// memberNames names members for messages, reading them only when a
// message needs them.
func (s *Store) memberNames(ctx context.Context, orgID string) func(string) string {
	return func(id string) string {
		if m, err := s.GetMember(ctx, orgID, id); err == nil {
			return m.Describe()
		}
		return id
	}
}

func memberCheck(orgID, memberID, cond string, vals map[string]types.AttributeValue) types.TransactWriteItem {
	if vals == nil {
		vals = map[string]types.AttributeValue{}
	}
	vals[":active"] = str(string(domain.MemberActive))
	c := check(key(orgPK(orgID), memberSK(memberID)), cond, vals)
	names := map[string]string{"#s": "status"}
	if containsRole(cond) {
		names["#r"] = "role"
	}
	c.ConditionCheck.ExpressionAttributeNames = names
	return c
}

func containsRole(cond string) bool {
	for i := 0; i+1 < len(cond); i++ {
		if cond[i] == '#' && cond[i+1] == 'r' {
			return true
		}
	}
	return false
}

// closeTransferItems are the writes that close a pending transfer: its new
// status, the lock released (unless lockHandled, when the caller's own
// write to the organization item takes care of it), and the audit entry.
func (s *Store) closeTransferItems(t domain.Transfer, status domain.TransferStatus, reason, actor string, now time.Time, lockHandled bool) []types.TransactWriteItem {
	vals := map[string]types.AttributeValue{
		":st": str(string(status)), ":pending": str(string(domain.TransferPending)),
		":at": str(fmtTime(now)), ":by": str(actor),
	}
	expr := "SET #s = :st, closed_at = :at, closed_by = :by"
	if reason != "" {
		expr += ", reason = :reason"
		vals[":reason"] = str(reason)
	}
	// Closed transfers leave the index of pending ones for the
	// organization's transfer history.
	expr += ", GSI1PK = :hpk, GSI1SK = :hsk"
	vals[":hpk"] = str(historyGSI(t.OrgID))
	vals[":hsk"] = str(fmtTime(t.RequestedAt) + "#" + t.ID)
	items := []types.TransactWriteItem{
		update{key: key(orgPK(t.OrgID), transferSK(t.ID)), expr: expr, cond: "#s = :pending",
			names: map[string]string{"#s": "status"}, vals: vals}.item(),
	}
	if !lockHandled {
		items = append(items, update{key: key(orgPK(t.OrgID), skOrg), expr: "SET " + releaseLock,
			cond: "pending_transfer_id = :t", vals: map[string]types.AttributeValue{":t": str(t.ID), ":none": str(""), ":zero": num(0)}}.item())
	}
	before, after := string(domain.TransferPending), string(status)
	if status == domain.TransferAccepted {
		// What changed is who holds Billing.
		before, after = "billing holder "+t.InitiatorID, "billing holder "+t.RecipientID
	}
	items = append(items, s.auditPut(t.OrgID, now, actor, status.AuditAction(), t.ID, before, after, reason))
	return items
}

// AcceptTransfer is the recipient's Accept. In one transaction Billing
// moves to the recipient, the transfer closes, the lock is released and
// the audit entry is written. The recipient's everyday role is unchanged.
func (s *Store) AcceptTransfer(ctx context.Context, orgID, transferID, actorID string) (domain.Transfer, error) {
	return s.answer(ctx, orgID, transferID, actorID, func(org domain.Org, t domain.Transfer, actor domain.Member, now time.Time) (domain.Outcome, []types.TransactWriteItem, error) {
		initiator, err := s.GetMember(ctx, orgID, t.InitiatorID)
		if err != nil {
			return domain.Outcome{}, nil, err
		}
		recipient, err := s.GetMember(ctx, orgID, t.RecipientID)
		if err != nil {
			return domain.Outcome{}, nil, err
		}
		out, err := domain.DecideAccept(org, t, actor, initiator, recipient, now)
		if err != nil || out.Status != domain.TransferInvalidated {
			return out, nil, err
		}
		// An invalidation rests on what was read of the parties (an
		// initiator no longer an Owner can be made one again): it is
		// written only if that is still so, else decided again.
		return out, []types.TransactWriteItem{
			unchangedMember(orgID, initiator), unchangedMember(orgID, recipient),
		}, nil
	})
}

// unchangedMember checks that a member's role and status are still those
// read.
func unchangedMember(orgID string, m domain.Member) types.TransactWriteItem {
	c := check(key(orgPK(orgID), memberSK(m.ID)), "#r = :r AND #s = :s", map[string]types.AttributeValue{
		":r": str(string(m.Role)), ":s": str(string(m.Status)),
	})
	c.ConditionCheck.ExpressionAttributeNames = map[string]string{"#r": "role", "#s": "status"}
	return c
}

// DeclineTransfer is the recipient's Decline: nothing changes but the
// transfer, which closes.
func (s *Store) DeclineTransfer(ctx context.Context, orgID, transferID, actorID string) (domain.Transfer, error) {
	return s.answer(ctx, orgID, transferID, actorID, func(_ domain.Org, t domain.Transfer, actor domain.Member, now time.Time) (domain.Outcome, []types.TransactWriteItem, error) {
		out, err := domain.DecideDecline(t, actor, now)
		return out, nil, err
	})
}

// CancelTransfer is the initiating Owner's Cancel.
func (s *Store) CancelTransfer(ctx context.Context, orgID, transferID, actorID string) (domain.Transfer, error) {
	return s.answer(ctx, orgID, transferID, actorID, func(_ domain.Org, t domain.Transfer, actor domain.Member, now time.Time) (domain.Outcome, []types.TransactWriteItem, error) {
		out, err := domain.DecideCancel(t, actor, now)
		return out, nil, err
	})
}

// decideFunc decides an answer; premises are condition checks that keep
// the decision true at write time, beyond those answer writes itself.
type decideFunc func(org domain.Org, t domain.Transfer, actor domain.Member, now time.Time) (out domain.Outcome, premises []types.TransactWriteItem, err error)

// answer reads the transfer and who acts, lets the domain decide the
// outcome, and writes it with conditions that make the decision's premises
// true at write time; when they no longer are, it decides again.
func (s *Store) answer(ctx context.Context, orgID, transferID, actorID string, decide decideFunc) (domain.Transfer, error) {
	for range retryDecisions {
		org, err := s.GetOrg(ctx, orgID)
		if err != nil {
			return domain.Transfer{}, err
		}
		t, err := s.GetTransfer(ctx, orgID, transferID)
		if err != nil {
			return domain.Transfer{}, err
		}
		actor, err := s.GetMember(ctx, orgID, actorID)
		if err != nil {
			if errors.Is(err, domain.ErrNotFound) {
				return domain.Transfer{}, domain.Refusef(domain.RuleNotRecipient, "Only the recipient of this transfer can answer it, and only its initiator can cancel it.")
			}
			return domain.Transfer{}, err
		}
		now := s.now().UTC()
		out, premises, err := decide(org, t, actor, now)
		if err != nil {
			return domain.Transfer{}, err
		}
		var items []types.TransactWriteItem
		if out.Status == domain.TransferAccepted {
			items = append(items,
				update{key: key(orgPK(orgID), skOrg), expr: "SET billing_holder = :r, " + releaseLock,
					cond: "pending_transfer_id = :t AND billing_holder = :i",
					vals: map[string]types.AttributeValue{":r": str(t.RecipientID), ":t": str(t.ID), ":i": str(t.InitiatorID), ":none": str(""), ":zero": num(0)}}.item(),
				memberCheck(orgID, t.InitiatorID, "#r = :owner AND #s = :active", map[string]types.AttributeValue{":owner": str(string(domain.RoleOwner))}),
				memberCheck(orgID, t.RecipientID, "#s = :active", nil),
			)
			closing := s.closeTransferItems(t, domain.TransferAccepted, "", actorID, now, true)
			// The accept must also happen before the stored expiry.
			closing[0].Update.ConditionExpression = aws.String("#s = :pending AND expiry_ms > :now")
			closing[0].Update.ExpressionAttributeValues[":now"] = num(millis(now))
			items = append(items, closing...)
		} else {
			actorOfRecord := actorID
			if out.Status == domain.TransferExpired {
				actorOfRecord = domain.SystemActor
			}
			items = s.closeTransferItems(t, out.Status, out.Reason, actorOfRecord, now, false)
		}
		items = append(items, premises...)
		err = s.transact(ctx, items)
		var tc *txCanceled
		if errors.As(err, &tc) {
			continue
		}
		if err != nil {
			return domain.Transfer{}, err
		}
		t.Status, t.ClosedAt, t.ClosedBy, t.Reason = out.Status, now, actorID, out.Reason
		if out.Refusal != nil {
			r := *out.Refusal
			r.Transfer = &t
			return t, &r
		}
		return t, nil
	}
	return domain.Transfer{}, raced("transfer answer")
}

// ExpireDueTransfers closes every pending transfer whose stored expiry has
// passed, and returns them. Nothing depends on it running: every decision
// reads the stored expiry. It only tidies up and lets people be told.
func (s *Store) ExpireDueTransfers(ctx context.Context) ([]domain.Transfer, error) {
	now := s.now().UTC()
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		IndexName:              aws.String(GSI1Name),
		KeyConditionExpression: aws.String("GSI1PK = :p AND GSI1SK <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": str(pendingGSI), ":now": str(expirySortKey(now, "\uffff", "")),
		},
	}, 1000)
	if err != nil {
		return nil, err
	}
	var expired []domain.Transfer
	for _, raw := range items {
		it, err := unmarshal[transferItem](raw)
		if err != nil {
			return expired, err
		}
		t, err := s.GetTransfer(ctx, it.OrgID, it.ID)
		if err != nil {
			return expired, err
		}
		if t.Status != domain.TransferPending || !t.Closed(now) {
			continue
		}
		err = s.transact(ctx, s.closeTransferItems(t, domain.TransferExpired, "", domain.SystemActor, now, false))
		var tc *txCanceled
		if errors.As(err, &tc) {
			continue // answered meanwhile
		}
		if err != nil {
			return expired, err
		}
		t.Status, t.ClosedAt, t.ClosedBy = domain.TransferExpired, now, domain.SystemActor
		expired = append(expired, t)
	}
	return expired, nil
}

// SetTransferMessages records where the Slack messages of a transfer are,
// so every outcome can rewrite them.
func (s *Store) SetTransferMessages(ctx context.Context, orgID, transferID string, recipient, initiator domain.Message) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           s.table,
		Key:                 key(orgPK(orgID), transferSK(transferID)),
		UpdateExpression:    aws.String("SET recipient_channel = :rc, recipient_ts = :rt, initiator_channel = :ic, initiator_ts = :it"),
		ConditionExpression: aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":rc": str(recipient.Channel), ":rt": str(recipient.TS), ":ic": str(initiator.Channel), ":it": str(initiator.TS),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return domain.NotFound("transfer", transferID)
	}
	if err != nil {
		return unavailable("write", err)
	}
	return nil
}

// ListTransfers reads every transfer of an organization, pending and
// closed: its history of Billing transfers.
func (s *Store) ListTransfers(ctx context.Context, orgID string) ([]domain.Transfer, error) {
	return listDomain[transferItem](ctx, s, orgPK(orgID), "TRANSFER#")
}
