package template

import (
	ttemplate "text/template"
	"text/template/parse"
)

// A fast program executes the common shape of template — literal text and actions that
// only read a field chain such as {{ .data.vmid }} or an AutoSnap placeholder — without
// text/template's reflection. Anything the fast path cannot decide exactly (a field chain
// through something other than map[string]any) falls back to the template itself, so
// the results and errors are the same either way.
type segment struct {
	text   string
	path   []string // the field chain of an action; nil for text
	action bool
}

type program []segment

// compileFast returns the program for base, or nil when the template has another shape.
// It must run before the escaper is appended to the actions.
func compileFast(base *ttemplate.Template) program {
	if len(base.Templates()) != 1 || base.Tree == nil || base.Tree.Root == nil {
		return nil
	}
	var prog program
	for _, n := range base.Tree.Root.Nodes {
		switch x := n.(type) {
		case *parse.TextNode:
			prog = append(prog, segment{text: string(x.Text)})
		case *parse.ActionNode:
			path := fieldChain(x.Pipe)
			if path == nil {
				return nil
			}
			prog = append(prog, segment{path: path, action: true})
		default:
			return nil
		}
	}
	return prog
}

// fieldChain returns the keys read by a pipeline of the form .a.b.c or index .a "b",
// or nil.
func fieldChain(p *parse.PipeNode) []string {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) != 1 {
		return nil
	}
	args := p.Cmds[0].Args
	switch {
	case len(args) == 1:
		if f, ok := args[0].(*parse.FieldNode); ok {
			return f.Ident
		}
	case len(args) == 3:
		id, ok1 := args[0].(*parse.IdentifierNode)
		f, ok2 := args[1].(*parse.FieldNode)
		s, ok3 := args[2].(*parse.StringNode)
		if ok1 && ok2 && ok3 && id.Ident == "index" {
			return append(append([]string(nil), f.Ident...), s.Text)
		}
	}
	return nil
}

// lookup follows path through nested map[string]any values. ok is false when the chain
// passes through anything else, where text/template's own rules (and errors) apply.
func lookup(data map[string]any, path []string) (v any, ok bool) {
	cur := data
	for i, key := range path {
		v = cur[key]
		if i == len(path)-1 {
			return v, true
		}
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, false
		}
		cur = m
	}
	return nil, false
}

// runFast executes prog; handled is false when the slow path must run instead.
func (s *Scope) runFast(t *Template, prog program) (w *ctxWriter, handled bool, err error) {
	w = &ctxWriter{kind: t.kind}
	b := &binding{scope: s, w: w}
	for _, seg := range prog {
		if !seg.action {
			if err := w.writeString(seg.text); err != nil {
				return nil, true, err
			}
			continue
		}
		v, ok := lookup(s.data, seg.path)
		if !ok {
			return nil, false, nil
		}
		str, sp, err := b.escapeValue(v)
		if err != nil {
			return nil, true, err
		}
		if err := w.writeValue(str, sp); err != nil {
			return nil, true, err
		}
	}
	if err := w.finish(); err != nil {
		return nil, true, err
	}
	return w, true, nil
}
