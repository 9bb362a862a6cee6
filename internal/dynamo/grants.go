package dynamo

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// Grant adds purchased credit to the pool (domain.NewGrant). A grant id is
// recorded, so a repeated grant adds nothing twice. A grant that would take
// the pool's totals past domain.MaxRunningTotalMicros is refused with
// nothing written: the ceiling is decided from the pool as read and is a
// condition of the pool's update, so concurrent grants cannot pass it
// together either.
func (s *Store) Grant(ctx context.Context, g domain.Grant, actor *domain.Member) (domain.Grant, domain.Pool, bool, error) {
	g, err := domain.NewGrant(g, s.now())
	if err != nil {
		return domain.Grant{}, domain.Pool{}, false, err
	}
	created := true
	err = s.mutate(ctx, "grant", func(ctx context.Context) (*write, error) {
		pool, err := s.GetPool(ctx, g.OrgID)
		if err != nil {
			return nil, err
		}
		// A grant id is used once: the same grant again is answered as
		// the first (nothing added), another one refused.
		if first, ok, err := getItem[grantItem](ctx, s, orgPK(g.OrgID), grantSK(g.ID)); err != nil {
			return nil, err
		} else if ok {
			if first.Amount != int64(g.Amount) || first.Reason != g.Reason {
				return nil, domain.Refusef(domain.RuleAlreadyExists, "grant %q was already made with another amount or reason; use a new id for a new grant", g.ID)
			}
			g, created = first.domain(), false
			return nil, nil
		}
		if err := domain.CheckCeiling(pool, g.Amount); err != nil {
			return nil, err
		}
		limit := int64(domain.MaxRunningTotalMicros - g.Amount)
		tx := new(txn).
			add("grant", putNew(marshal(grantItem{PK: orgPK(g.OrgID), SK: grantSK(g.ID), Type: typeGrant, OrgID: g.OrgID, ID: g.ID,
				Amount: int64(g.Amount), Reason: g.Reason, At: fmtTime(g.At)}))).
			add("pool", update(itemKey(orgPK(g.OrgID), skPool),
				expression.Add(name("balance_micros"), value(int64(g.Amount))).Add(name("granted_micros"), value(int64(g.Amount))),
				when(present().
					And(name("granted_micros").LessThanEqual(value(limit))).
					And(name("balance_micros").LessThanEqual(value(limit)))))).
			add("audit", s.auditEntry(g.OrgID, g.At, domain.ActorID(actor), domain.ActionGrant, g.ID, "", strconv.FormatInt(int64(g.Amount), 10), g.Reason))
		// A failed condition is a grant of the same id, or another grant
		// raising the pool, written meanwhile: decide again.
		return &write{tx: tx}, nil
	})
	if err != nil {
		return domain.Grant{}, domain.Pool{}, false, err
	}
	pool, err := s.GetPool(ctx, g.OrgID)
	return g, pool, created, err
}
