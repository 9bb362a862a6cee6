package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// auditEntry is the audit entry written in the same transaction as the
// change it records.
func (s *Store) auditEntry(org string, at time.Time, actor string, action domain.Action, target, before, after, detail string) types.TransactWriteItem {
	id := newID("au_", at)
	// The sequence orders entries written at the same instant (several in
	// one transaction, or a coarse clock) in the order they were made.
	seq := s.auditSeq.Add(1)
	return putNew(marshal(auditItem{
		PK: auditPK(org), SK: compose(fmtTime(at), fmt.Sprintf("%012d", seq%1e12), id), Type: typeAudit,
		OrgID: org, ID: id, At: fmtTime(at), Actor: actor, Action: string(action),
		Target: target, Before: before, After: after, Detail: detail,
	}))
}

// Audit reads an organization's audit trail, newest first; limit is
// checked by domain.AuditLimit (0 is the default).
func (s *Store) Audit(ctx context.Context, orgID string, limit int) ([]domain.AuditEntry, error) {
	n, err := domain.AuditLimit(limit)
	if err != nil {
		return nil, err
	}
	if _, err := s.GetOrg(ctx, orgID); err != nil {
		return nil, err
	}
	return s.auditEntries(ctx, orgID, n)
}

// auditEntries reads the organization's newest n audit entries.
func (s *Store) auditEntries(ctx context.Context, orgID string, n int) ([]domain.AuditEntry, error) {
	in := queryInput("", expression.Key(PartitionKey).Equal(expression.Value(auditPK(orgID))), true)
	in.ScanIndexForward = aws.Bool(false)
	in.Limit = aws.Int32(int32(n))
	items, err := s.query(ctx, in, n)
	if err != nil {
		return nil, err
	}
	out := make([]domain.AuditEntry, 0, len(items))
	for _, raw := range items {
		it, err := unmarshal[auditItem](raw)
		if err != nil {
			return nil, unreadable("audit entry", err)
		}
		out = append(out, it.domain())
	}
	return out, nil
}

// ReadAudit is the audit trail for a member: those domain.CanReadAudit
// allows.
func (s *Store) ReadAudit(ctx context.Context, orgID, actorID string, limit int) ([]domain.AuditEntry, error) {
	org, err := s.GetOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	n, err := domain.AuditLimit(limit)
	if err != nil {
		return nil, err
	}
	m, err := s.GetMember(ctx, orgID, actorID)
	switch {
	case domain.IsNotFound(err):
		return nil, domain.CanReadAudit(org, domain.Member{})
	case err != nil:
		return nil, err
	}
	if err := domain.CanReadAudit(org, m); err != nil {
		return nil, err
	}
	return s.auditEntries(ctx, orgID, n)
}
