package domain

import (
	"slices"
	"strings"
	"testing"
)

const cr = MicrosPerCredit

func pool(balance, threshold, granted Micros) *Pool {
	return &Pool{OrgID: "acme", Balance: balance, Threshold: threshold, Granted: granted}
}

func TestPoolAlerts(t *testing.T) {
	tests := []struct {
		name     string
		old, new *Pool
		want     []AlertKind
		wantKeys []string
	}{
		{"above to below alerts", pool(12*cr, 10*cr, 100*cr), pool(9*cr, 10*cr, 100*cr),
			[]AlertKind{AlertLowBalance}, []string{"lowbal acme g100000000 b9000000"}},
		{"at the threshold to below alerts", pool(10*cr, 10*cr, 100*cr), pool(10*cr-1, 10*cr, 100*cr),
			[]AlertKind{AlertLowBalance}, nil},
		{"above to exactly the threshold is not below", pool(12*cr, 10*cr, 100*cr), pool(10*cr, 10*cr, 100*cr), nil, nil},
		{"below to below sends nothing", pool(9*cr, 10*cr, 100*cr), pool(8*cr, 10*cr, 100*cr), nil, nil},
		{"below to above (a grant) sends nothing", pool(9*cr, 10*cr, 100*cr), pool(59*cr, 10*cr, 150*cr), nil, nil},
		{"above to above sends nothing", pool(50*cr, 10*cr, 100*cr), pool(40*cr, 10*cr, 100*cr), nil, nil},
		{"after a grant re-armed it, the next crossing alerts under a new key", pool(59*cr, 10*cr, 150*cr), pool(9*cr, 10*cr, 150*cr),
			[]AlertKind{AlertLowBalance}, []string{"lowbal acme g150000000 b9000000"}},
		{"below to empty: exhausted only", pool(3*cr, 10*cr, 100*cr), pool(0, 10*cr, 100*cr),
			[]AlertKind{AlertExhausted}, []string{"exhausted acme g100000000"}},
		{"above to empty in one debit: both", pool(12*cr, 10*cr, 100*cr), pool(0, 10*cr, 100*cr),
			[]AlertKind{AlertLowBalance, AlertExhausted}, nil},
		{"no threshold: only exhaustion", pool(1, 0, 100*cr), pool(0, 0, 100*cr), []AlertKind{AlertExhausted}, nil},
		{"empty to empty sends nothing", pool(0, 10*cr, 100*cr), pool(0, 20*cr, 100*cr), nil, nil},
		{"threshold raised above the balance alerts", pool(15*cr, 10*cr, 100*cr), pool(15*cr, 20*cr, 100*cr), []AlertKind{AlertLowBalance}, nil},
		{"threshold lowered below the balance re-arms silently", pool(15*cr, 20*cr, 100*cr), pool(15*cr, 10*cr, 100*cr), nil, nil},
		{"new pool (no old image) sends nothing", nil, pool(0, 10*cr, 0), nil, nil},
		{"removed pool sends nothing", pool(12*cr, 10*cr, 100*cr), nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PoolAlerts(tt.old, tt.new)
			var kinds []AlertKind
			var keys []string
			for _, a := range got {
				kinds = append(kinds, a.Kind)
				keys = append(keys, strings.Join(a.Key(), " "))
				if a.OrgID != "acme" || a.Balance != tt.new.Balance || a.Threshold != tt.new.Threshold {
					t.Errorf("alert %+v does not describe the new image %+v", a, *tt.new)
				}
			}
			if !slices.Equal(kinds, tt.want) {
				t.Errorf("kinds = %v, want %v", kinds, tt.want)
			}
			if tt.wantKeys != nil && !slices.Equal(keys, tt.wantKeys) {
				t.Errorf("keys = %v, want %v", keys, tt.wantKeys)
			}
		})
	}
}

func spend(spent, cap Micros) *GroupSpend {
	return &GroupSpend{OrgID: "acme", GroupID: "research", Period: "2026-11", Spent: spent, Cap: cap}
}

func reachedCap(spent, cap Micros) *GroupSpend {
	s := spend(spent, cap)
	s.CapReached = true
	return s
}

func TestSpendAlert(t *testing.T) {
	const k80, k100 = "spend acme research 2026-11 80", "spend acme research 2026-11 100"
	tests := []struct {
		name      string
		old, new  *GroupSpend
		wantLevel int // 0: no alert
		wantKeys  []string
	}{
		{"79% to 81% alerts 80", spend(79*cr, 100*cr), spend(81*cr, 100*cr), 80, []string{k80}},
		{"exactly 80% alerts 80", spend(79*cr, 100*cr), spend(80*cr, 100*cr), 80, []string{k80}},
		{"just under 80% sends nothing", spend(70*cr, 100*cr), spend(80*cr-1, 100*cr), 0, nil},
		{"81% to 100% alerts 100", spend(81*cr, 100*cr), spend(100*cr, 100*cr), 100, []string{k100}},
		{"70% to 100% alerts 100 only, and retires 80", spend(70*cr, 100*cr), spend(100*cr, 100*cr), 100, []string{k100, k80}},
		{"81% to 90% sends nothing", spend(81*cr, 100*cr), spend(90*cr, 100*cr), 0, nil},
		{"first debit of the period (no old image) at 85% alerts 80", nil, spend(85*cr, 100*cr), 80, []string{k80}},
		{"first debit of the period under 80% sends nothing", nil, spend(5*cr, 100*cr), 0, nil},
		{"a raised cap below 80% again, then crossing it, alerts 80 (deduplicated by key)", spend(70*cr, 200*cr), spend(170*cr, 200*cr), 80, []string{k80}},
		{"no cap sends nothing", spend(0, 0), spend(0, 0), 0, nil},
		{"a refusal for the cap at 95% alerts 100", spend(95*cr, 100*cr), reachedCap(95*cr, 100*cr), 100, []string{k100}},
		{"a refusal for the cap at 50% alerts 100 and retires 80", spend(50*cr, 100*cr), reachedCap(50*cr, 100*cr), 100, []string{k100, k80}},
		{"a refusal before any debit of the period alerts 100", nil, reachedCap(0, 100*cr), 100, []string{k100, k80}},
		{"a debit after the cap was reached sends nothing", reachedCap(95*cr, 100*cr), reachedCap(96*cr, 100*cr), 0, nil},
		{"an old image of another period counts as zero", &GroupSpend{OrgID: "acme", GroupID: "research", Period: "2026-10", Spent: 90 * cr, Cap: 100 * cr}, spend(85*cr, 100*cr), 80, []string{k80}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := SpendAlert(tt.old, tt.new)
			if ok != (tt.wantLevel != 0) {
				t.Fatalf("alert = %v (%+v), want level %d", ok, a, tt.wantLevel)
			}
			if !ok {
				return
			}
			if a.Level != tt.wantLevel || a.Kind != AlertGroupSpend || a.Spent != tt.new.Spent || a.Cap != tt.new.Cap || a.GroupID != "research" || a.Period != "2026-11" {
				t.Errorf("alert = %+v, want level %d of %+v", a, tt.wantLevel, *tt.new)
			}
			var keys []string
			for _, k := range a.Keys {
				keys = append(keys, strings.Join(k, " "))
			}
			if !slices.Equal(keys, tt.wantKeys) {
				t.Errorf("keys = %v, want %v", keys, tt.wantKeys)
			}
		})
	}
}
