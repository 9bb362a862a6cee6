package notify

import (
	"slices"
	"testing"

	"github.com/orgcredit/orgcredit/internal/domain"
)

const cr = domain.MicrosPerCredit

func pool(balance, threshold, granted domain.Micros) *PoolImage {
	return &PoolImage{OrgID: "acme", Balance: balance, Threshold: threshold, Granted: granted}
}

func TestPoolCrossings(t *testing.T) {
	tests := []struct {
		name     string
		old, new *PoolImage
		want     []Kind
		wantKeys []string
	}{
		{"above to below alerts", pool(12*cr, 10*cr, 100*cr), pool(9*cr, 10*cr, 100*cr),
			[]Kind{KindLowBalance}, []string{"notify:lowbal:acme:g100000000:b9000000"}},
		{"at the threshold to below alerts", pool(10*cr, 10*cr, 100*cr), pool(10*cr-1, 10*cr, 100*cr),
			[]Kind{KindLowBalance}, nil},
		{"above to exactly the threshold is not below", pool(12*cr, 10*cr, 100*cr), pool(10*cr, 10*cr, 100*cr), nil, nil},
		{"below to below sends nothing", pool(9*cr, 10*cr, 100*cr), pool(8*cr, 10*cr, 100*cr), nil, nil},
		{"below to above (a grant) sends nothing", pool(9*cr, 10*cr, 100*cr), pool(59*cr, 10*cr, 150*cr), nil, nil},
		{"above to above sends nothing", pool(50*cr, 10*cr, 100*cr), pool(40*cr, 10*cr, 100*cr), nil, nil},
		{"after a grant re-armed it, the next crossing alerts under a new key", pool(59*cr, 10*cr, 150*cr), pool(9*cr, 10*cr, 150*cr),
			[]Kind{KindLowBalance}, []string{"notify:lowbal:acme:g150000000:b9000000"}},
		{"below to empty: exhausted only", pool(3*cr, 10*cr, 100*cr), pool(0, 10*cr, 100*cr),
			[]Kind{KindExhausted}, []string{"notify:exhausted:acme:g100000000"}},
		{"above to empty in one debit: both", pool(12*cr, 10*cr, 100*cr), pool(0, 10*cr, 100*cr),
			[]Kind{KindLowBalance, KindExhausted}, nil},
		{"no threshold: only exhaustion", pool(1, 0, 100*cr), pool(0, 0, 100*cr), []Kind{KindExhausted}, nil},
		{"empty to empty sends nothing", pool(0, 10*cr, 100*cr), pool(0, 20*cr, 100*cr), nil, nil},
		{"threshold raised above the balance alerts", pool(15*cr, 10*cr, 100*cr), pool(15*cr, 20*cr, 100*cr), []Kind{KindLowBalance}, nil},
		{"threshold lowered below the balance re-arms silently", pool(15*cr, 20*cr, 100*cr), pool(15*cr, 10*cr, 100*cr), nil, nil},
		{"new pool (no old image) sends nothing", nil, pool(0, 10*cr, 0), nil, nil},
		{"removed pool sends nothing", pool(12*cr, 10*cr, 100*cr), nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PoolCrossings(tt.old, tt.new)
			var kinds []Kind
			var keys []string
			for _, a := range got {
				kinds = append(kinds, a.Kind)
				keys = append(keys, a.Key())
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

func spend(spent, cap domain.Micros) *SpendImage {
	return &SpendImage{OrgID: "acme", GroupID: "research", Period: "2026-11", Spent: spent, Cap: cap}
}

func reachedCap(spent, cap domain.Micros) *SpendImage {
	s := spend(spent, cap)
	s.CapReached = true
	return s
}

func TestSpendCrossing(t *testing.T) {
	const k80, k100 = "notify:spend:acme:research:2026-11:80", "notify:spend:acme:research:2026-11:100"
	tests := []struct {
		name      string
		old, new  *SpendImage
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
		{"an old image of another period counts as zero", &SpendImage{OrgID: "acme", GroupID: "research", Period: "2026-10", Spent: 90 * cr, Cap: 100 * cr}, spend(85*cr, 100*cr), 80, []string{k80}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := SpendCrossing(tt.old, tt.new)
			if ok != (tt.wantLevel != 0) {
				t.Fatalf("alert = %v (%+v), want level %d", ok, a, tt.wantLevel)
			}
			if !ok {
				return
			}
			if a.Level != tt.wantLevel || a.Kind != KindSpend || a.Spent != tt.new.Spent || a.Cap != tt.new.Cap || a.GroupID != "research" || a.Period != "2026-11" {
				t.Errorf("alert = %+v, want level %d of %+v", a, tt.wantLevel, *tt.new)
			}
			if !slices.Equal(a.Keys, tt.wantKeys) {
				t.Errorf("keys = %v, want %v", a.Keys, tt.wantKeys)
			}
		})
	}
}

func TestText(t *testing.T) {
	org := domain.Org{ID: "acme", Name: "Acme Corp"}
	tests := []struct {
		a     Alert
		group string
		want  string
	}{
		{Alert{Kind: KindLowBalance, Balance: 9_500_000, Threshold: 10 * cr}, "",
			"Acme Corp's credit pool is below its low-balance threshold of 10 credits: 9.5 credits left. Usage continues until the pool is empty; add credit to keep every agent working."},
		{Alert{Kind: KindExhausted}, "",
			"Acme Corp's credit pool is empty: every agent of Acme Corp is refused until credit is added."},
		{Alert{Kind: KindSpend, GroupID: "research", Period: "2026-11", Spent: 81 * cr, Cap: 100 * cr, Level: 80}, "Research",
			`Budget group "Research" of Acme Corp has used 80% of its cap for 2026-11: 81 of 100 credits spent.`},
		{Alert{Kind: KindSpend, GroupID: "research", Period: "2026-11", Spent: 1500 * cr, Cap: 1500 * cr, Level: 100}, "",
			`Budget group "research" of Acme Corp has used its whole cap for 2026-11: 1,500 of 1,500 credits spent. Its agents are refused until an Owner or Admin raises the cap or the month ends.`},
	}
	for _, tt := range tests {
		if got := Text(org, tt.a, tt.group); got != tt.want {
			t.Errorf("Text(%s) =\n%s\nwant\n%s", tt.a.Kind, got, tt.want)
		}
	}
}
