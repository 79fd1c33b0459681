package awstest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// User is an IAM user with its access keys.
type User struct {
	Name string
	Keys []AccessKey
}

// AccessKey is an access key of a user. Status is "Active" or
// "Inactive"; Created defaults to now.
type AccessKey struct {
	ID      string
	Status  string
	Created time.Time
}

type storedUser struct {
	User
	id      string
	created time.Time
}

// AddUser adds u (or replaces the user of its name) to account.
func (s *Server) AddUser(account string, u User) {
	u.Keys = slices.Clone(u.Keys)
	now := time.Now().UTC().Truncate(time.Second)
	for i := range u.Keys {
		if u.Keys[i].Created.IsZero() {
			u.Keys[i].Created = now
		}
		if u.Keys[i].Status == "" {
			u.Keys[i].Status = "Active"
		}
	}
	su := storedUser{User: u, id: "AIDA" + strings.ToUpper(fakeID("", account, u.Name)), created: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[account] = upsert(s.users[account], su, func(x storedUser) string { return x.Name })
}

type xmlUser struct {
	Path       string `xml:"Path"`
	UserName   string `xml:"UserName"`
	UserID     string `xml:"UserId"`
	Arn        string `xml:"Arn"`
	CreateDate string `xml:"CreateDate"`
}

type listUsersResult struct {
	Users       []xmlUser `xml:"Users>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

func (s *Server) listUsers(r *request) (any, error) {
	users, marker, err := iamPage(s, r, s.users[r.account])
	if err != nil {
		return nil, err
	}
	res := listUsersResult{Users: []xmlUser{}, IsTruncated: marker != "", Marker: marker}
	for _, u := range users {
		res.Users = append(res.Users, xmlUser{Path: "/", UserName: u.Name, UserID: u.id,
			Arn: "arn:aws:iam::" + r.account + ":user/" + u.Name, CreateDate: u.created.Format(time.RFC3339)})
	}
	return res, nil
}

type xmlAccessKey struct {
	UserName    string `xml:"UserName"`
	AccessKeyID string `xml:"AccessKeyId"`
	Status      string `xml:"Status"`
	CreateDate  string `xml:"CreateDate"`
}

type listAccessKeysResult struct {
	Keys        []xmlAccessKey `xml:"AccessKeyMetadata>member"`
	IsTruncated bool           `xml:"IsTruncated"`
	Marker      string         `xml:"Marker,omitempty"`
}

func (s *Server) listAccessKeys(r *request) (any, error) {
	name := r.form.Get("UserName")
	users := s.users[r.account]
	i := slices.IndexFunc(users, func(x storedUser) bool { return x.Name == name })
	if i < 0 {
		return nil, errorf(http.StatusNotFound, "NoSuchEntity", "The user with name %s cannot be found.", name)
	}
	keys, marker, err := iamPage(s, r, users[i].Keys)
	if err != nil {
		return nil, err
	}
	res := listAccessKeysResult{Keys: []xmlAccessKey{}, IsTruncated: marker != "", Marker: marker}
	for _, k := range keys {
		res.Keys = append(res.Keys, xmlAccessKey{UserName: name, AccessKeyID: k.ID, Status: k.Status, CreateDate: k.Created.Format(time.RFC3339)})
	}
	return res, nil
}
