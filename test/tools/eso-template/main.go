// Renders External Secrets Operator templates (engine v2) as ESO does: Go's text/template with
// sprig's text functions, minus env and expandenv, and an error on a missing key. The
// conformance suite uses it to run pgplane's composed ExternalSecret templates for real.
//
// stdin:  {"templates": {"<key>": "<template>"}, "data": {"<name>": "<value>"}}
// stdout: {"<key>": "<rendered>"}
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

type request struct {
	Templates map[string]string `json:"templates"`
	Data      map[string]string `json:"data"`
}

func main() {
	var in request
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "eso-template: cannot read the request:", err)
		os.Exit(2)
	}
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	out := make(map[string]string, len(in.Templates))
	for key, text := range in.Templates {
		tpl, err := template.New(key).Funcs(funcs).Option("missingkey=error").Parse(text)
		if err != nil {
			fmt.Fprintf(os.Stderr, "eso-template: cannot parse template %q: %v\n", key, err)
			os.Exit(1)
		}
		var rendered bytes.Buffer
		if err := tpl.Execute(&rendered, in.Data); err != nil {
			fmt.Fprintf(os.Stderr, "eso-template: cannot execute template %q: %v\n", key, err)
			os.Exit(1)
		}
		out[key] = rendered.String()
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "eso-template: cannot write the result:", err)
		os.Exit(2)
	}
}
