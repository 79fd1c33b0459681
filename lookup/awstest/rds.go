package awstest

import (
	"net/http"
)

const rdsNS = "http://rds.amazonaws.com/doc/2014-10-31/"

// DBInstance is an RDS database instance. Address "" means it has no
// endpoint yet (being created).
type DBInstance struct {
	ID                 string
	Engine             string
	Address            string
	Port               int32
	PubliclyAccessible bool
}

// AddDBInstance adds db (or replaces the one of its id) in account and
// region.
func (s *Server) AddDBInstance(account, region string, db DBInstance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := accountRegion{account, region}
	s.dbs[k] = upsert(s.dbs[k], db, func(x DBInstance) string { return x.ID })
}

var rdsProtocol = queryProtocol{ns: rdsNS, actions: map[string]handler{
	"DescribeDBInstances": (*Server).describeDBInstances,
}}

type xmlDBInstance struct {
	ID                 string       `xml:"DBInstanceIdentifier"`
	Engine             string       `xml:"Engine"`
	Status             string       `xml:"DBInstanceStatus"`
	PubliclyAccessible bool         `xml:"PubliclyAccessible"`
	Endpoint           *xmlEndpoint `xml:"Endpoint,omitempty"`
}

type xmlEndpoint struct {
	Address string `xml:"Address"`
	Port    int32  `xml:"Port"`
}

type describeDBInstancesResult struct {
	DBInstances []xmlDBInstance `xml:"DBInstances>DBInstance"`
	Marker      string          `xml:"Marker,omitempty"`
}

func (s *Server) describeDBInstances(r *request) (any, error) {
	max, ok := intParam(r.form, "MaxRecords")
	if !ok || r.form.Get("MaxRecords") != "" && (max < 20 || max > 100) {
		return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid value for MaxRecords: %s, must be between 20 and 100", r.form.Get("MaxRecords"))
	}
	all := s.dbs[accountRegion{r.account, r.region}]
	start, end, next, ok := page(len(all), pageLimit(s.PageSize, max), r.form.Get("Marker"))
	if !ok {
		return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid Marker: %s", r.form.Get("Marker"))
	}
	res := describeDBInstancesResult{DBInstances: []xmlDBInstance{}, Marker: next}
	for _, db := range all[start:end] {
		x := xmlDBInstance{ID: db.ID, Engine: db.Engine, Status: "available", PubliclyAccessible: db.PubliclyAccessible}
		if db.Address != "" {
			x.Endpoint = &xmlEndpoint{Address: db.Address, Port: db.Port}
		} else {
			x.Status = "creating"
		}
		res.DBInstances = append(res.DBInstances, x)
	}
	return res, nil
}
