package apigw

import (
	"errors"

	"github.com/orgcredit/orgcredit/internal/dynamo"
)

// isUnavailable reports an infrastructure failure that survived the
// store's retries (throttling, transaction conflicts, timeouts): it is
// answered 503 with Retry-After, and the same request is safe to retry.
func isUnavailable(err error) bool { return errors.Is(err, dynamo.ErrUnavailable) }
