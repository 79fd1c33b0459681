package jobs

import (
	"context"

	"github.com/fullstop-audit/fullstop/lookup/kio"
)

// Lifecycles finds the application an instance ran, from the lifecycle
// rows (the store).
type Lifecycles interface {
	// LifecycleLatestApplication returns the name of the application
	// recorded last for any of instanceIDs in account and region.
	LifecycleLatestApplication(ctx context.Context, account, region string, instanceIDs []string) (string, bool, error)
}

// KioApps is Kio (lookup/kio.Client).
type KioApps interface {
	Application(ctx context.Context, id string) (kio.Application, bool, error)
}

// PublicApps tells whether instances serve an application Kio marks
// publicly accessible, whose open endpoints the jobs do not report
// (reference §5.2). An application unknown to the lifecycle rows or to
// Kio is not public.
type PublicApps struct {
	Lifecycles Lifecycles
	Kio        KioApps
}

// Public reports whether the application of instanceIDs is public. A nil
// PublicApps knows none.
func (p *PublicApps) Public(ctx context.Context, account, region string, instanceIDs []string) (bool, error) {
	if p == nil || len(instanceIDs) == 0 {
		return false, nil
	}
	name, found, err := p.Lifecycles.LifecycleLatestApplication(ctx, account, region, instanceIDs)
	if err != nil || !found {
		return false, err
	}
	app, found, err := p.Kio.Application(ctx, name)
	if err != nil || !found {
		return false, err
	}
	return app.PubliclyAccessible, nil
}
