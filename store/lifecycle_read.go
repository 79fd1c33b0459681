package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lifecycle is a stored application lifecycle row, as the API shows it.
// NULL text and times are nil.
type Lifecycle struct {
	ID               int64
	Application      string // application name
	Version          string // version name
	EventID          *string
	EventType        *string // RunInstances …; nil for a row of an instance log
	EventDate        *time.Time
	AccountID        *string
	Region           *string
	InstanceID       *string
	ImageID          *string
	ImageName        *string
	InstanceBootTime *time.Time
	UserdataPath     *string
	Created          time.Time
}

// LifecycleFilter selects lifecycle rows: those of the application named
// Application and, when Version is not "", of its version named Version.
type LifecycleFilter struct {
	Application string
	Version     string
}

// lifecycleSortColumns are the sort properties of lifecycle rows (the
// reference's entity fields) and their columns.
var lifecycleSortColumns = map[string]string{
	"id":               "l.id",
	"created":          "l.created",
	"lastModified":     "l.last_modified",
	"eventDate":        "l.event_date",
	"eventType":        "l.event_type",
	"accountId":        "l.account_id",
	"region":           "l.region",
	"instanceId":       "l.instance_id",
	"instanceBootTime": "l.instance_boot_time",
	"imageId":          "l.image_id",
	"imageName":        "l.image_name",
}

// LifecycleSortProperties returns the properties a page of lifecycle rows
// can be sorted by, in alphabetical order.
func LifecycleSortProperties() []string {
	return slices.Sorted(maps.Keys(lifecycleSortColumns))
}

const (
	lifecycleFrom = `
FROM fullstop_data.lifecycle l
JOIN fullstop_data.application a ON a.id = l.application
LEFT JOIN fullstop_data.app_version av ON av.id = l.application_version
WHERE a.name = @application AND (@version::text IS NULL OR av.name = @version)`
	lifecycleColumns = `l.id, a.name, coalesce(av.name, ''), l.event_id, l.event_type, l.event_date, l.account_id, l.region,
       l.instance_id, l.image_id, l.image_name, l.instance_boot_time, l.userdata_path, l.created`
)

// LifecyclePage returns the lifecycle rows f selects, sorted by sorts
// (then id), from offset, at most limit of them, and how many f selects in
// all. A sort property outside LifecycleSortProperties is an error.
func (s *Store) LifecyclePage(ctx context.Context, f LifecycleFilter, sorts []Sort, offset, limit int) ([]Lifecycle, int64, error) {
	order, err := orderBy(sorts, lifecycleSortColumns, "l.id")
	if err != nil {
		return nil, 0, err
	}
	args := pgx.NamedArgs{"application": f.Application, "version": nullText(f.Version)}
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	var total int64
	if err := s.pool.QueryRow(ctx, "SELECT count(*)"+lifecycleFrom, args).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count lifecycle rows: %w", s.dbErr(ctx, err))
	}
	if total == 0 || int64(offset) >= total {
		return nil, total, nil
	}
	args["offset"], args["limit"] = offset, limit
	rows, err := s.pool.Query(ctx, "SELECT "+lifecycleColumns+lifecycleFrom+order+"\nOFFSET @offset LIMIT @limit", args)
	if err != nil {
		return nil, 0, fmt.Errorf("list lifecycle rows: %w", s.dbErr(ctx, err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Lifecycle, error) {
		var l Lifecycle
		err := r.Scan(&l.ID, &l.Application, &l.Version, &l.EventID, &l.EventType, &l.EventDate, &l.AccountID, &l.Region,
			&l.InstanceID, &l.ImageID, &l.ImageName, &l.InstanceBootTime, &l.UserdataPath, &l.Created)
		return l, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list lifecycle rows: %w", s.dbErr(ctx, err))
	}
	return out, total, nil
}

// LifecycleLatestApplication returns the name of the application of the
// lifecycle row modified last for any of instanceIDs in account and
// region; found is false when there is none.
func (s *Store) LifecycleLatestApplication(ctx context.Context, account, region string, instanceIDs []string) (string, bool, error) {
	ctx, cancel := s.statementCtx(ctx)
	defer cancel()
	var name string
	err := s.pool.QueryRow(ctx, `SELECT a.name FROM fullstop_data.lifecycle l JOIN fullstop_data.application a ON a.id = l.application
WHERE l.account_id = $1 AND l.region = $2 AND l.instance_id = ANY($3)
ORDER BY l.last_modified DESC NULLS LAST, l.id DESC LIMIT 1`, account, region, instanceIDs).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("latest application of %v: %w", instanceIDs, s.dbErr(ctx, err))
	}
	return name, true, nil
}
