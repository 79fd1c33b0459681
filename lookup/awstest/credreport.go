package awstest

import (
	"encoding/base64"
	"net/http"
	"time"
)

// credentialReport is an account's IAM credential report.
type credentialReport struct {
	csv       string
	pending   int // GenerateCredentialReport calls answered STARTED before COMPLETE
	generated bool
	at        time.Time
}

// SetCredentialReport sets the CSV of account's credential report, which
// the first pending GenerateCredentialReport calls answer as still being
// generated (STARTED), as IAM does while it builds a report.
func (s *Server) SetCredentialReport(account, csv string, pending int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reports[account] = &credentialReport{csv: csv, pending: pending}
}

type generateCredentialReportResult struct {
	State       string `xml:"State"`
	Description string `xml:"Description"`
}

func (s *Server) generateCredentialReport(r *request) (any, error) {
	rep := s.reports[r.account]
	if rep == nil {
		rep = &credentialReport{csv: "user,arn,user_creation_time,password_enabled,mfa_active,access_key_1_active,access_key_2_active\n"}
		s.reports[r.account] = rep
	}
	if rep.pending > 0 {
		rep.pending--
		return generateCredentialReportResult{State: "STARTED", Description: "No report exists. Starting a new report generation task"}, nil
	}
	rep.generated, rep.at = true, time.Now().UTC().Truncate(time.Second)
	return generateCredentialReportResult{State: "COMPLETE"}, nil
}

type getCredentialReportResult struct {
	Content       string `xml:"Content"`
	ReportFormat  string `xml:"ReportFormat"`
	GeneratedTime string `xml:"GeneratedTime"`
}

func (s *Server) getCredentialReport(r *request) (any, error) {
	rep := s.reports[r.account]
	if rep == nil || !rep.generated {
		return nil, errorf(http.StatusGone, "ReportNotPresent", "Credential report not present. Call GenerateCredentialReport first.")
	}
	return getCredentialReportResult{Content: base64.StdEncoding.EncodeToString([]byte(rep.csv)), ReportFormat: "text/csv",
		GeneratedTime: rep.at.Format(time.RFC3339)}, nil
}
