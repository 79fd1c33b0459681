// Command fullstop audits the CloudTrail logs of many AWS accounts: it
// turns new log objects into violations stored in PostgreSQL.
package main

import "os"

func main() {
	os.Exit(runMain(os.Args, os.Stderr))
}
