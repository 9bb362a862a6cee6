package agentapi

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// DefaultTokenTTL is how long a token lookup is kept by default. Keeping it
// is safe however long: the agent it holds carries the organization's
// agents version it was read at, and a debit or balance read with a stale
// version reloads the agent (see domain.Agent.Version), so a revocation or
// move takes effect at the very next request. The TTL only bounds memory
// and how long an unknown token's answer is kept.
const DefaultTokenTTL = 5 * time.Minute

// MaxTokenTTL bounds the TTL.
const MaxTokenTTL = 15 * time.Minute

// maxCachedTokens bounds the cache's memory. A Lambda instance serves a
// handful of agents; an attacker sending random well-formed tokens should
// not grow it without bound.
const maxCachedTokens = 10_000

// tokenCache keeps token lookups for a TTL so that a debit does not read
// DynamoDB for its token every time. It caches unknown and revoked tokens
// too (a token cannot become valid later: tokens are made at random when
// an agent is created), so garbage does not reach DynamoDB either. Other
// errors are not cached. Tokens are kept by hash, never in clear.
type tokenCache struct {
	lookupFn func(ctx context.Context, token string) (domain.Agent, error)
	ttl      time.Duration
	now      func() time.Time

	mu      sync.Mutex
	entries map[string]tokenEntry
}

type tokenEntry struct {
	agent   domain.Agent
	err     error // domain.ErrNotFound or domain.ErrAgentRevoked, or nil
	expires time.Time
}

func newTokenCache(fn func(context.Context, string) (domain.Agent, error), ttl time.Duration, now func() time.Time) *tokenCache {
	return &tokenCache{lookupFn: fn, ttl: ttl, now: now, entries: map[string]tokenEntry{}}
}

func (c *tokenCache) lookup(ctx context.Context, token string) (domain.Agent, error) {
	key := domain.HashToken(token)
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.agent, e.err
	}
	agent, err := c.lookupFn(ctx, token)
	switch {
	case err == nil:
	case errors.Is(err, domain.ErrNotFound):
		err = domain.ErrNotFound
	case errors.Is(err, domain.ErrAgentRevoked):
		err = domain.ErrAgentRevoked
	default:
		return domain.Agent{}, err
	}
	if err == nil && agent.Revoked {
		err = domain.ErrAgentRevoked
	}
	c.mu.Lock()
	if len(c.entries) >= maxCachedTokens {
		c.evict(now)
	}
	c.entries[key] = tokenEntry{agent: agent, err: err, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return agent, err
}

// evict drops expired entries, or everything when none has expired. Called
// with mu held.
func (c *tokenCache) evict(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) >= maxCachedTokens {
		clear(c.entries)
	}
}

// refresh keeps a reloaded agent for token, when it is newer than the one
// held: the store reloads an agent whose cached version went stale.
func (c *tokenCache) refresh(token string, a domain.Agent) {
	if a.ID == "" {
		return
	}
	key := domain.HashToken(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && e.err == nil && e.agent.Version < a.Version {
		e.agent = a
		c.entries[key] = e
	}
}

func (c *tokenCache) forget(token string) {
	c.mu.Lock()
	delete(c.entries, domain.HashToken(token))
	c.mu.Unlock()
}
