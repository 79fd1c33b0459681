package store

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fullstop-audit/fullstop/rules"
)

//go:embed query/lifecycle_insert.sql
var lifecycleInsertSQL string

// writeLifecycles inserts the lifecycle rows ls in tx, with the
// applications and versions they name, and returns how many were new.
// Rows without an application or version are not stored (the reference
// records only instances whose user data names both).
func writeLifecycles(ctx context.Context, tx pgx.Tx, ls []rules.Lifecycle, user string) (int, error) {
	var (
		apps, versions                              []*string
		events, types, accounts, regions, instances []string
		images, names, appNames, versionNames       []string
		dates                                       []time.Time
	)
	for _, l := range ls {
		l = cleanLifecycle(l)
		if l.Application == "" || l.Version == "" || l.EventID == "" || l.InstanceID == "" {
			continue
		}
		apps, versions = append(apps, &l.Application), append(versions, &l.Version)
		events, types, dates = append(events, l.EventID), append(types, l.EventType), append(dates, l.EventDate)
		accounts, regions, instances = append(accounts, l.AccountID), append(regions, l.Region), append(instances, l.InstanceID)
		images, names = append(images, l.ImageID), append(names, l.ImageName)
		appNames, versionNames = append(appNames, l.Application), append(versionNames, l.Version)
	}
	if len(events) == 0 {
		return 0, nil
	}
	if err := createStack(ctx, tx, user, apps, versions); err != nil {
		return 0, err
	}
	var n int
	if err := tx.QueryRow(ctx, lifecycleInsertSQL, user, events, types, dates, accounts, regions, instances,
		images, names, appNames, versionNames).Scan(&n); err != nil {
		return 0, fmt.Errorf("insert lifecycle rows: %w", err)
	}
	return n, nil
}

// cleanLifecycle makes the text fields storable in PostgreSQL.
func cleanLifecycle(l rules.Lifecycle) rules.Lifecycle {
	for _, f := range []*string{&l.EventID, &l.EventType, &l.AccountID, &l.Region, &l.InstanceID, &l.ImageID, &l.ImageName, &l.Application, &l.Version} {
		*f = cleanText(*f)
	}
	return l
}

//go:embed query/lifecycle_boot_insert.sql
var lifecycleBootInsertSQL string

// InstanceBoot is an instance's boot as the instance reports it with its
// Taupage user data (POST /api/instance-logs).
type InstanceBoot struct {
	AccountID, Region, InstanceID string
	BootTime                      time.Time
	UserdataPath                  string // where the user data is stored: bucket/key
	Application, Version          string // from the user data; both required
}

// LifecycleAddBoot stores the lifecycle row of an instance boot, with its
// application and version, in one transaction. It reports false when the
// boot's row was stored before (an instance uploading its user data
// again).
func (s *Store) LifecycleAddBoot(ctx context.Context, b InstanceBoot, user string) (bool, error) {
	for _, f := range []*string{&b.AccountID, &b.Region, &b.InstanceID, &b.UserdataPath, &b.Application, &b.Version} {
		*f = cleanText(*f)
	}
	if b.Application == "" || b.Version == "" {
		return false, fmt.Errorf("lifecycle of instance %s: application and version are required", b.InstanceID)
	}
	ctx, cancel := s.transactionCtx(ctx)
	defer cancel()
	added := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := createStack(ctx, tx, user, []*string{&b.Application}, []*string{&b.Version}); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, lifecycleBootInsertSQL, user, b.AccountID, b.Region, b.InstanceID, b.BootTime,
			b.UserdataPath, b.Application, b.Version)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		added = len(ids) == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("lifecycle of instance %s: %w", b.InstanceID, s.dbErr(ctx, err))
	}
	return added, nil
}
