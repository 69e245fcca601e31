package api

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// The OpenAPI 3.1 document is written from the route table: each route's summary, role,
// query parameters, and the Go types of its request and answer bodies (turned into JSON
// Schema by reflection, so the description cannot drift from the code).

func (s *server) openapi(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	writeJSON(w, http.StatusOK, s.document())
	return nil
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

func (s *server) document() map[string]any {
	g := &schemaGen{defs: map[string]any{}, types: map[string]reflect.Type{}}
	errRef := g.ref(reflect.TypeFor[ErrorBody]())
	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": map[string]any{"type": "string"}})
		}
		ok := map[string]any{"description": http.StatusText(rt.status)}
		if rt.out != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.ref(reflect.TypeOf(rt.out))}}
		}
		responses := map[string]any{strconv.Itoa(rt.status): ok}
		for _, code := range []int{400, 401, 403, 404, 409, 413, 500, 503} {
			responses[strconv.Itoa(code)] = map[string]any{"description": http.StatusText(code),
				"content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
		}
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": operationID(rt.method, rt.path),
			"x-tact-role": string(rt.role),
			"security":    []any{map[string]any{"bearer": []any{}}},
			"responses":   responses,
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.in != nil {
			content := map[string]any{"application/json": map[string]any{"schema": g.ref(reflect.TypeOf(rt.in))}}
			if rt.path == "/api/v1/posts/import" {
				content["text/csv"] = map[string]any{"schema": map[string]any{"type": "string",
					"description": "lines campaign,at,text[,account]; an optional header line names the columns (campaign, at, text, account, link, draft)"}}
			}
			op["requestBody"] = map[string]any{"required": true, "content": content}
		}
		if paths[rt.path] == nil {
			paths[rt.path] = map[string]any{}
		}
		paths[rt.path][strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "tact API", "version": s.opt.Version,
			"description": "Supervised social-media publishing. Every route needs Authorization: Bearer <token>; x-tact-role is the least role it needs (viewer < marketer < admin). Errors are {\"error\", \"field\"}."},
		"paths": paths,
		"components": map[string]any{
			"schemas":         g.defs,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/") {
		part = strings.Trim(part, "{}")
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// schemaGen turns Go types into JSON Schema, named struct types into components.
type schemaGen struct {
	defs  map[string]any
	types map[string]reflect.Type
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[queue.Duration]()
	postState    = reflect.TypeFor[queue.PostState]()
)

// ref returns a schema for t, a $ref for named structs.
func (g *schemaGen) ref(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == durationType:
		return map[string]any{"type": "string", "description": "Go duration such as 90s, 30m or 48h"}
	case t == postState:
		var enum []any
		for _, s := range queue.PostStates {
			enum = append(enum, string(s))
		}
		return map[string]any{"type": "string", "enum": enum}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.ref(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.ref(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		name := schemaName(t)
		if prev, ok := g.types[name]; !ok {
			g.types[name] = t
			g.defs[name] = map[string]any{} // placeholder against recursion
			g.defs[name] = g.object(t)
		} else if prev != t {
			name = t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:] + name
			g.types[name] = t
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{} // any
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	g.fields(t, props)
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
}

// fields adds t's JSON fields to props, flattening embedded structs as encoding/json does.
func (g *schemaGen) fields(t reflect.Type, props map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			g.fields(ft, props)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.ref(f.Type)
	}
}

// schemaName names a component: the type's name, and for List[T] "TList".
func schemaName(t reflect.Type) string {
	n := t.Name()
	base, arg, ok := strings.Cut(n, "[")
	if !ok {
		return n
	}
	arg = strings.TrimSuffix(arg, "]")
	arg = arg[strings.LastIndex(arg, ".")+1:]
	return strings.TrimLeft(arg, "*") + base
}
