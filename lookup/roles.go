package lookup

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/lookup/iamrole"
)

// KindProtectedRole is the check of MODIFIED_ROLE_OR_SERVICE.
const KindProtectedRole = "iam.protected_role"

// DefaultRoleTTL is how long the result of a role check is kept.
const DefaultRoleTTL = time.Minute

// RoleKinds is the protected-role check, keyed (account, role name, event
// name, the session issuer's user name): when the event is one the check
// applies to (iamrole.Protected, with the template names from templates
// and adminRoles; nil: the defaults), the role's policies now in IAM are
// compared with its template, and the answer is the violation's meta.
// Not found: the event is not about a protected role, the role is gone
// (DeleteRole), or it matches its template. A template or policy that is
// not JSON is also not found, as the reference logged it and went on.
func RoleKinds(c *aws.Clients, templates *aws.Templates, adminRoles []string, ttl time.Duration) []Kind {
	if ttl <= 0 {
		ttl = DefaultRoleTTL
	}
	return []Kind{{Name: KindProtectedRole, Keys: 4, TTL: ttl, Func: func(ctx context.Context, key []string) (json.RawMessage, error) {
		account, role, eventName, issuer := key[0], key[1], key[2], key[3]
		keys, err := templates.Keys(ctx)
		if err != nil {
			return nil, err
		}
		if !iamrole.Protected(iamrole.EventSource, eventName, issuer, role, nil, adminRoles, iamrole.TemplateNames(templates.Prefix, keys)) {
			return nil, nil
		}
		tmpl, found, err := templates.Body(ctx, iamrole.TemplateKey(templates.Prefix, role))
		if err != nil || !found {
			return nil, err
		}
		st, found, err := c.Role(ctx, account, role)
		if err != nil || !found {
			return nil, err
		}
		meta, err := iamrole.Check(tmpl, iamrole.Role{Name: role, AttachedPolicies: st.Attached, InlinePolicies: st.Inline, MainPolicy: st.MainPolicy})
		if errors.Is(err, iamrole.ErrInvalidJSON) {
			return nil, nil
		}
		if err != nil || meta == nil {
			return nil, err
		}
		return answer(meta, true, nil)
	}}}
}
