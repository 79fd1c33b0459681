package auth

import (
	"context"
	"slices"
	"strings"
)

// MayResolve reports whether p may resolve the violations of the AWS
// account: always when p has every right, else when the account is among
// p's Accounts.
func (t *TeamService) MayResolve(ctx context.Context, p Principal, account string) (bool, error) {
	if p.All {
		return true, nil
	}
	account = strings.TrimSpace(account)
	if account == "" {
		return false, nil
	}
	accounts, err := t.Accounts(ctx, p.UID)
	if err != nil {
		return false, err
	}
	return slices.Contains(accounts, account), nil
}

// MayEditWhitelist reports whether p may edit a whitelist entry that
// allowedTeams may edit: always when p has every right, else when p is a
// member of one of them (ids compared exactly, after trimming).
func (t *TeamService) MayEditWhitelist(ctx context.Context, p Principal, allowedTeams []string) (bool, error) {
	if p.All {
		return true, nil
	}
	allowed := distinctSorted(allowedTeams)
	if len(allowed) == 0 {
		return false, nil
	}
	teams, err := t.Teams(ctx, p.UID)
	if err != nil {
		return false, err
	}
	for _, team := range teams {
		if _, found := slices.BinarySearch(allowed, team); found {
			return true, nil
		}
	}
	return false, nil
}
