package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// The organization item carries the pending-transfer lock
// (pending_transfer_id). A request sets it only when absent, or when the
// pending transfer it names has passed its stored expiry; every outcome
// releases it in the same transaction that closes the transfer. So at most
// one transfer is pending per organization, whatever runs concurrently.
//
// The lock is released by setting it empty rather than removing it: the
// embedded back end does not implement REMOVE, and an empty id reads the
// same. Conditions accept both an absent and an empty lock.

// lockIs is the condition that the lock names id ("" for no lock).
func lockIs(id string) expression.ConditionBuilder {
	return unchangedString("pending_transfer_id", id)
}

// releaseLock adds the lock's release to an update.
func releaseLock(set expression.UpdateBuilder) expression.UpdateBuilder {
	return set.Set(name("pending_transfer_id"), value("")).Set(name("pending_expiry_ms"), value(0))
}

// GetTransfer reads a transfer.
func (s *Store) GetTransfer(ctx context.Context, orgID, transferID string) (domain.Transfer, error) {
	return getDomain[transferItem](ctx, s, orgPK(orgID), transferSK(transferID), "transfer", transferID)
}

// lockedTransfer is the transfer the organization's lock names, also one
// past its expiry that nothing has swept yet; nil without a lock.
func (s *Store) lockedTransfer(ctx context.Context, org domain.Org) (*domain.Transfer, error) {
	if org.PendingTransferID == "" {
		return nil, nil
	}
	t, err := s.GetTransfer(ctx, org.ID, org.PendingTransferID)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// PendingTransfer is the organization's pending transfer, or nil. One past
// its expiry is not pending, whether or not it has been swept.
func (s *Store) PendingTransfer(ctx context.Context, orgID string) (*domain.Transfer, error) {
	org, err := s.GetOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	t, err := s.lockedTransfer(ctx, org)
	if err != nil || t == nil || t.Closed(s.now()) {
		return nil, err
	}
	return t, nil
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

// RequestTransfer starts a transfer of Billing from actorID to recipientID
// (domain.DecideRequest). replaced is a pending transfer past its expiry
// that the request closed as expired, so its parties can be told.
func (s *Store) RequestTransfer(ctx context.Context, orgID, actorID, recipientID string) (t domain.Transfer, replaced *domain.Transfer, err error) {
	err = s.mutate(ctx, "transfer request", func(ctx context.Context) (*write, error) {
		org, err := s.GetOrg(ctx, orgID)
		if err != nil {
			return nil, err
		}
		act, err := s.actor(ctx, org, &domain.Member{ID: actorID})
		if err != nil {
			return nil, err
		}
		actor := *act
		var recipient *domain.Member
		if r, err := s.GetMember(ctx, orgID, recipientID); err == nil {
			recipient = &r
		} else if !domain.IsNotFound(err) {
			return nil, err
		}
		pending, err := s.lockedTransfer(ctx, org)
		if err != nil {
			return nil, err
		}
		now := s.now().UTC()
		t, err = domain.DecideRequest(org, actor, recipientID, recipient, pending, s.memberNames(ctx, orgID), newID("tr_", now), now, s.transferTTL)
		if err != nil {
			return nil, err
		}
		// The expiry is stored in milliseconds and every decision reads the
		// stored one: the caller gets that one too, not a finer instant.
		t.ExpiresAt = t.ExpiresAt.Truncate(time.Millisecond)

		// The lock is free, or names the pending transfer read, which has
		// expired: this request replaces it and closes it as expired in
		// the same transaction.
		lock := lockIs("")
		replaced = nil
		if pending != nil {
			lock = name("pending_transfer_id").Equal(value(pending.ID)).
				And(name("pending_expiry_ms").LessThanEqual(value(millis(now))))
			p := *pending
			replaced = &p
		}
		tx := new(txn).
			add("org", update(itemKey(orgPK(orgID), skOrg),
				expression.Set(name("pending_transfer_id"), value(t.ID)).Set(name("pending_expiry_ms"), value(millis(t.ExpiresAt))),
				when(name("billing_holder").Equal(value(actorID)).And(lock)))).
			add("initiator", check(itemKey(orgPK(orgID), memberSK(actorID)), unchangedMember(actor))).
			add("recipient", check(itemKey(orgPK(orgID), memberSK(recipientID)), name("status").Equal(value(string(domain.MemberActive))))).
			add("transfer", putNew(marshal(newTransferItem(t)))).
			add("audit", s.auditEntry(orgID, now, actorID, domain.ActionTransferRequested, t.ID, actorID, recipientID, "to "+recipientID))
		if pending != nil {
			s.closeTransfer(tx, *pending, domain.TransferExpired, "", domain.SystemActor, now)
			replaced.Status, replaced.ClosedAt, replaced.ClosedBy = domain.TransferExpired, now, domain.SystemActor
		}
		// Any failed condition: the holder, a role or the lock changed
		// meanwhile; decide again.
		return &write{tx: tx}, nil
	})
	if err != nil {
		return domain.Transfer{}, nil, err
	}
	return t, replaced, nil
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

// closeTransfer adds the writes that close a pending transfer to tx: its
// new status, leaving the index of pending transfers for the
// organization's Billing history, and the audit entry. The caller's own
// write to the organization item releases the lock.
func (s *Store) closeTransfer(tx *txn, t domain.Transfer, status domain.TransferStatus, reason, actor string, now time.Time) {
	set := expression.Set(name("status"), value(string(status))).
		Set(name("closed_at"), value(fmtTime(now))).
		Set(name("closed_by"), value(actor)).
		Set(name(GSI1PartitionKey), value(historyGSI(t.OrgID))).
		Set(name(GSI1SortKey), value(compose(fmtTime(t.RequestedAt), t.ID)))
	if reason != "" {
		set = set.Set(name("reason"), value(reason))
	}
	premise := name("status").Equal(value(string(domain.TransferPending)))
	if status == domain.TransferAccepted {
		// An accept must also happen before the stored expiry.
		premise = premise.And(name("expiry_ms").GreaterThan(value(millis(now))))
	}
	before, after := string(domain.TransferPending), string(status)
	if status == domain.TransferAccepted {
		// What changed is who holds Billing.
		before, after = "billing holder "+t.InitiatorID, "billing holder "+t.RecipientID
	}
	tx.add("transfer", update(itemKey(orgPK(t.OrgID), transferSK(t.ID)), set, when(premise)))
	tx.add("audit", s.auditEntry(t.OrgID, now, actor, status.AuditAction(), t.ID, before, after, reason))
}

// AcceptTransfer is the recipient's Accept. In one transaction Billing
// moves to the recipient, the transfer closes, the lock is released and
// the audit entry is written. The recipient's everyday role is unchanged.
func (s *Store) AcceptTransfer(ctx context.Context, orgID, transferID, actorID string) (domain.Transfer, error) {
	return s.answer(ctx, orgID, transferID, actorID, func(org domain.Org, t domain.Transfer, actor domain.Member, now time.Time) (domain.Outcome, []premise, error) {
		initiator, err := s.GetMember(ctx, orgID, t.InitiatorID)
		if err != nil {
			return domain.Outcome{}, nil, err
		}
		recipient, err := s.GetMember(ctx, orgID, t.RecipientID)
		if err != nil {
			return domain.Outcome{}, nil, err
		}
		out, err := domain.DecideAccept(org, t, actor, initiator, recipient, now)
		if err != nil {
			return out, nil, err
		}
		// An accept rests on the parties being as read (the initiator an
		// active Owner, the recipient active); an invalidation too (an
		// initiator no longer an Owner can be made one again): either is
		// written only if that is still so, else decided again.
		return out, []premise{{"initiator", initiator}, {"recipient", recipient}}, nil
	})
}

// DeclineTransfer is the recipient's Decline: nothing changes but the
// transfer, which closes.
func (s *Store) DeclineTransfer(ctx context.Context, orgID, transferID, actorID string) (domain.Transfer, error) {
	return s.answer(ctx, orgID, transferID, actorID, func(_ domain.Org, t domain.Transfer, actor domain.Member, now time.Time) (domain.Outcome, []premise, error) {
		out, err := domain.DecideDecline(t, actor, now)
		return out, nil, err
	})
}

// CancelTransfer is the initiating Owner's Cancel.
func (s *Store) CancelTransfer(ctx context.Context, orgID, transferID, actorID string) (domain.Transfer, error) {
	return s.answer(ctx, orgID, transferID, actorID, func(_ domain.Org, t domain.Transfer, actor domain.Member, now time.Time) (domain.Outcome, []premise, error) {
		out, err := domain.DecideCancel(t, actor, now)
		return out, nil, err
	})
}

// premise is a member whose role and status a decision rests on.
type premise struct {
	tag    string
	member domain.Member
}

// decideFunc decides an answer to a transfer, and names the members whose
// state the decision rests on.
type decideFunc func(org domain.Org, t domain.Transfer, actor domain.Member, now time.Time) (domain.Outcome, []premise, error)

// answer reads the transfer and who acts, lets the domain decide the
// outcome, and writes it with conditions that make the decision's premises
// true at write time; when they no longer are, it decides again.
func (s *Store) answer(ctx context.Context, orgID, transferID, actorID string, decide decideFunc) (domain.Transfer, error) {
	var (
		t   domain.Transfer
		out domain.Outcome
	)
	err := s.mutate(ctx, "transfer answer", func(ctx context.Context) (*write, error) {
		org, err := s.GetOrg(ctx, orgID)
		if err != nil {
			return nil, err
		}
		if t, err = s.GetTransfer(ctx, orgID, transferID); err != nil {
			return nil, err
		}
		actor, err := s.GetMember(ctx, orgID, actorID)
		if err != nil {
			if domain.IsNotFound(err) {
				return nil, domain.Refusef(domain.RuleNotRecipient, "Only the recipient of this transfer can answer it, and only its initiator can cancel it.")
			}
			return nil, err
		}
		now := s.now().UTC()
		var premises []premise
		if out, premises, err = decide(org, t, actor, now); err != nil {
			return nil, err
		}
		tx := new(txn)
		orgKey := itemKey(orgPK(orgID), skOrg)
		if out.Status == domain.TransferAccepted {
			tx.add("org", update(orgKey, releaseLock(expression.Set(name("billing_holder"), value(t.RecipientID))),
				when(name("pending_transfer_id").Equal(value(t.ID)).And(name("billing_holder").Equal(value(t.InitiatorID))))))
		} else {
			tx.add("org", update(orgKey, releaseLock(expression.UpdateBuilder{}), when(name("pending_transfer_id").Equal(value(t.ID)))))
		}
		for _, p := range premises {
			tx.add(p.tag, check(itemKey(orgPK(orgID), memberSK(p.member.ID)), unchangedMember(p.member)))
		}
		closer := actorID
		if out.Status == domain.TransferExpired {
			closer = domain.SystemActor
		}
		s.closeTransfer(tx, t, out.Status, out.Reason, closer, now)
		t.Status, t.ClosedAt, t.ClosedBy, t.Reason = out.Status, now, closer, out.Reason
		return &write{tx: tx}, nil
	})
	if err != nil {
		return domain.Transfer{}, err
	}
	if out.Refusal != nil {
		r := *out.Refusal
		r.Transfer = &t
		return t, &r
	}
	return t, nil
}

// maxSweep bounds how many due transfers one sweep closes; the next sweep
// takes the rest.
const maxSweep = 1000

// ExpireDueTransfers closes every pending transfer whose stored expiry has
// passed, and returns them. Nothing depends on it running: every decision
// reads the stored expiry. It only tidies up and lets people be told. A
// transfer that cannot be read or closed is reported in the error and the
// sweep goes on with the others: one organization's broken item never stops
// another's expiry.
func (s *Store) ExpireDueTransfers(ctx context.Context) ([]domain.Transfer, error) {
	now := s.now().UTC()
	kc := expression.Key(GSI1PartitionKey).Equal(expression.Value(pendingGSI)).
		And(expression.Key(GSI1SortKey).LessThanEqual(expression.Value(expirySortKey(now, "\uffff", ""))))
	items, err := s.query(ctx, queryInput(GSI1Name, kc, false), maxSweep)
	if err != nil {
		return nil, err
	}
	var (
		expired []domain.Transfer
		errs    []error
	)
	for _, raw := range items {
		it, err := unmarshal[transferItem](raw)
		if err != nil {
			errs = append(errs, unreadable("pending transfer "+itemID(raw), err))
			continue
		}
		t, err := s.expire(ctx, it.OrgID, it.ID, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if t != nil {
			expired = append(expired, *t)
		}
	}
	return expired, errors.Join(errs...)
}

// expire closes one transfer as expired if it still is pending and due;
// nil when there was nothing to do.
func (s *Store) expire(ctx context.Context, orgID, transferID string, now time.Time) (*domain.Transfer, error) {
	var closed *domain.Transfer
	err := s.mutate(ctx, "transfer expiry", func(ctx context.Context) (*write, error) {
		t, err := s.GetTransfer(ctx, orgID, transferID)
		if err != nil {
			return nil, err
		}
		if t.Status != domain.TransferPending || !t.Closed(now) {
			closed = nil
			return nil, nil
		}
		tx := new(txn).add("org", update(itemKey(orgPK(orgID), skOrg), releaseLock(expression.UpdateBuilder{}),
			when(name("pending_transfer_id").Equal(value(t.ID)))))
		s.closeTransfer(tx, t, domain.TransferExpired, "", domain.SystemActor, now)
		t.Status, t.ClosedAt, t.ClosedBy = domain.TransferExpired, now, domain.SystemActor
		closed = &t
		return &write{tx: tx}, nil
	})
	return closed, err
}

// itemID names a raw item by its key, for an error message.
func itemID(raw map[string]types.AttributeValue) string {
	pk, _ := raw[PartitionKey].(*types.AttributeValueMemberS)
	sk, _ := raw[SortKey].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return "(no key)"
	}
	return pk.Value + " " + sk.Value
}

// SetTransferMessages records where the Slack messages of a transfer are,
// so every outcome can rewrite them.
func (s *Store) SetTransferMessages(ctx context.Context, orgID, transferID string, recipient, initiator domain.Message) error {
	e := build(expression.NewBuilder().
		WithUpdate(expression.Set(name("recipient_channel"), value(recipient.Channel)).
			Set(name("recipient_ts"), value(recipient.TS)).
			Set(name("initiator_channel"), value(initiator.Channel)).
			Set(name("initiator_ts"), value(initiator.TS))).
		WithCondition(present()))
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: s.table, Key: itemKey(orgPK(orgID), transferSK(transferID)),
		UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return notFound("transfer", transferID)
	}
	if err != nil {
		return unavailable("write", err)
	}
	return nil
}

// TransferHistory reads an organization's closed transfers, newest first:
// who held Billing before, and how each request ended. limit is as for
// Audit: 0 for the default, at most domain.MaxAuditEntries.
func (s *Store) TransferHistory(ctx context.Context, orgID string, limit int) ([]domain.Transfer, error) {
	limit, err := domain.AuditLimit(limit)
	if err != nil {
		return nil, err
	}
	in := queryInput(GSI1Name, expression.Key(GSI1PartitionKey).Equal(expression.Value(historyGSI(orgID))), false)
	in.ScanIndexForward = aws.Bool(false)
	items, err := s.query(ctx, in, limit)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Transfer, 0, len(items))
	for _, raw := range items {
		it, err := unmarshal[transferItem](raw)
		if err != nil {
			return nil, unreadable("transfer", err)
		}
		out = append(out, it.domain())
	}
	return out, nil
}

// ListTransfers reads every transfer of an organization, pending and
// closed, in id order (ids are time-ordered).
func (s *Store) ListTransfers(ctx context.Context, orgID string) ([]domain.Transfer, error) {
	return listDomain[transferItem](ctx, s, orgPK(orgID), transfersPrefix)
}
