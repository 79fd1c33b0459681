package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3gen"
	"go.yaml.in/yaml/v4"
)

// openAPIDocument builds the OpenAPI 3 document of routes (and of /health
// and /metrics) with kin-openapi: the parameters from the same
// declarations the handlers parse, the schemas from the Go types the
// handlers encode and decode. It returns the document as YAML.
func openAPIDocument(routes []route) ([]byte, error) {
	doc, err := buildOpenAPI(routes)
	if err != nil {
		return nil, err
	}
	return yaml.Marshal(doc)
}

func buildOpenAPI(routes []route) (*openapi3.T, error) {
	doc := &openapi3.T{
		OpenAPI: "3.0.3",
		Info: &openapi3.Info{
			Title:       "fullstop",
			Version:     "1",
			Description: "Violations found in CloudTrail logs: list, resolve, whitelist. The paths, parameters and JSON shapes of Zalando's Fullstop.",
		},
		Paths: openapi3.NewPaths(),
		Components: &openapi3.Components{SecuritySchemes: openapi3.SecuritySchemes{
			"bearer": &openapi3.SecuritySchemeRef{Value: openapi3.NewJWTSecurityScheme().WithDescription(
				"A bearer token: checked with token-info or as a JWT, as the server's --auth says.")},
		}},
		Security: openapi3.SecurityRequirements{{"bearer": []string{}}},
	}
	for _, rt := range routes {
		op, err := routeOperation(rt)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", rt.method, rt.path, err)
		}
		item := doc.Paths.Value(rt.path)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(rt.path, item)
		}
		item.SetOperation(rt.method, op)
	}
	open := openapi3.SecurityRequirements{}
	health, err := schemaOf(Health{})
	if err != nil {
		return nil, err
	}
	doc.Paths.Set(healthPath, &openapi3.PathItem{Get: &openapi3.Operation{
		OperationID: "health", Summary: "Whether the database answers", Tags: []string{"operations"}, Security: &open,
		Responses: responses(
			response{status: http.StatusOK, desc: "The database answers."},
			response{status: http.StatusServiceUnavailable, desc: "The database does not answer."},
		).withSchema(health),
	}})
	doc.Paths.Set(metricsPath, &openapi3.PathItem{Get: &openapi3.Operation{
		OperationID: "metrics", Summary: "Prometheus metrics", Tags: []string{"operations"}, Security: &open,
		Responses: textResponse("Metrics in the Prometheus text format.", "text/plain"),
	}})
	doc.Paths.Set(openAPIPath, &openapi3.PathItem{Get: &openapi3.Operation{
		OperationID: "openapi", Summary: "This document", Tags: []string{"operations"}, Security: &open,
		Responses: textResponse("The OpenAPI document.", "application/yaml"),
	}})
	return doc, nil
}

func routeOperation(rt route) (*openapi3.Operation, error) {
	op := &openapi3.Operation{OperationID: rt.id, Summary: rt.summary, Description: rt.desc, Tags: []string{rt.tag}}
	for _, p := range rt.params {
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: paramSchema(p)})
	}
	if rt.body != nil {
		s, err := schemaOf(rt.body.schema)
		if err != nil {
			return nil, err
		}
		types := rt.body.types
		if len(types) == 0 {
			types = []string{"application/json"}
		}
		op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
			WithDescription(rt.body.desc).WithRequired(rt.body.required).WithSchemaRef(s, types)}
	}
	rs := openapi3.NewResponses(openapi3.WithStatus(0, nil))
	rs.Delete("default")
	for _, r := range rt.responses {
		resp := openapi3.NewResponse().WithDescription(r.desc)
		if r.schema != nil {
			s, err := schemaOf(r.schema)
			if err != nil {
				return nil, err
			}
			ct := "application/json"
			if _, ok := r.schema.(Problem); ok {
				ct = "application/problem+json"
			}
			resp.WithContent(openapi3.NewContentWithSchemaRef(s, []string{ct}))
		}
		rs.Set(strconv.Itoa(r.status), &openapi3.ResponseRef{Value: resp})
	}
	op.Responses = rs
	return op, nil
}

// docResponses are responses sharing one JSON schema.
type docResponses []response

func responses(rs ...response) docResponses { return rs }

func (d docResponses) withSchema(s *openapi3.SchemaRef) *openapi3.Responses {
	rs := openapi3.NewResponses(openapi3.WithStatus(0, nil))
	rs.Delete("default")
	for _, r := range d {
		rs.Set(strconv.Itoa(r.status), &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(r.desc).
			WithContent(openapi3.NewContentWithSchemaRef(s, []string{"application/json"}))})
	}
	return rs
}

func textResponse(desc, contentType string) *openapi3.Responses {
	rs := openapi3.NewResponses(openapi3.WithStatus(0, nil))
	rs.Delete("default")
	rs.Set("200", &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(desc).
		WithContent(openapi3.NewContentWithSchema(openapi3.NewStringSchema(), []string{contentType}))})
	return rs
}

// paramSchema documents a declared parameter.
func paramSchema(p param) *openapi3.Parameter {
	var prm *openapi3.Parameter
	if p.in == "path" {
		prm = openapi3.NewPathParameter(p.name)
	} else {
		prm = openapi3.NewQueryParameter(p.name)
	}
	prm.Description = p.desc
	prm.Required = p.required
	var s *openapi3.Schema
	switch p.kind {
	case kindInt:
		s = openapi3.NewInt64Schema()
	case kindPage:
		s = openapi3.NewInt64Schema().WithMin(0)
	case kindPageSize:
		s = openapi3.NewInt64Schema().WithMin(1).WithMax(maxPageSize)
	case kindBool:
		s = openapi3.NewBoolSchema()
	case kindTime:
		s = openapi3.NewDateTimeSchema()
	case kindList, kindSort:
		s = openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema())
		explode := true
		prm.Explode = &explode
		prm.Style = openapi3.SerializationForm
	default:
		s = openapi3.NewStringSchema()
		for _, e := range p.enum {
			s.Enum = append(s.Enum, e)
		}
	}
	if p.def != "" {
		s.Default = typedDefault(p)
	}
	prm.Schema = s.NewRef()
	return prm
}

var (
	timeType       = reflect.TypeFor[Time]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
)

// schemaOf generates the JSON schema of v's type from its json tags.
func schemaOf(v any) (*openapi3.SchemaRef, error) {
	return openapi3gen.NewSchemaRefForValue(v, nil, openapi3gen.SchemaCustomizer(
		func(name string, t reflect.Type, tag reflect.StructTag, s *openapi3.Schema) error {
			switch t {
			case timeType:
				nullable := s.Nullable
				*s = *openapi3.NewDateTimeSchema()
				s.Nullable = nullable
			case rawMessageType:
				*s = openapi3.Schema{Description: "any JSON value", Nullable: true}
			}
			if f := tag.Get("format"); f != "" {
				s.Format = f
			}
			return nil
		}))
}

// typedDefault is a parameter's documented default as a value of its type.
func typedDefault(p param) any {
	switch p.kind {
	case kindInt, kindPage, kindPageSize:
		if n, err := strconv.ParseInt(p.def, 10, 64); err == nil {
			return n
		}
	case kindBool:
		if b, ok := parseBool(p.def); ok {
			return b
		}
	case kindList, kindSort:
		return []any{p.def}
	}
	return p.def
}
