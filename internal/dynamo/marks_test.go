package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

// Ids may contain ':' (and '.', '_', '-'). Once-keys were built by joining
// ids with ':', so organization "x:y" with group "z" and organization "x"
// with group "y:z" shared one key, and the second holder was never told.
// Every composite key is now built from unambiguous parts.
func TestOnceKeysOfCraftedIdsDoNotCollide(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		w := newWorld(t, b)
		pairs := [][2]domain.OnceKey{
			{domain.NewOnceKey("spend", "x:y", "z", "2026-11", "80"), domain.NewOnceKey("spend", "x", "y:z", "2026-11", "80")},
			{domain.NewOnceKey("lowbal", "a", "g1:b2"), domain.NewOnceKey("lowbal", "a:g1", "b2")},
			{domain.NewOnceKey("outcome", "acme", "tr_1"), domain.NewOnceKey("outcome", "acme:tr_1")},
			{domain.NewOnceKey("k", "a#b", "c"), domain.NewOnceKey("k", "a", "b#c")},
			{domain.NewOnceKey("k", "a%23", "b"), domain.NewOnceKey("k", "a#", "b")},
			{domain.NewOnceKey("k", "", "a"), domain.NewOnceKey("k", "a")},
		}
		for _, p := range pairs {
			for _, k := range p {
				first, err := w.s.MarkOnce(ctx, k, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				if !first {
					t.Errorf("MarkOnce(%q) was not first: it collided with %q", k, p)
				}
			}
			again, err := w.s.MarkOnce(ctx, p[0], time.Hour)
			if err != nil || again {
				t.Errorf("MarkOnce(%q) a second time = %v, %v; want false", p[0], again, err)
			}
		}
	})
}
