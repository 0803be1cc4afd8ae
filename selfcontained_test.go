package hookpoint_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// citesSpec finds a citation of the product specification the team works from: the word
// in capitals, a section sign, or the phrase of "the" and the word. (Written with classes and escapes so that
// this file does not match.)
var citesSpec = regexp.MustCompile(`\bS[P]EC\b|\x{00A7}|(?i:\bthe s[p]ec\b)`)

// The repository stands on its own: its docs, code comments and examples point to
// docs/, never to a specification outside it. Test data (recorded or quoted material)
// is not checked.
func TestRepositoryCitesNoOutsideSpec(t *testing.T) {
	t.Parallel()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "bin", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !textFile(path) {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			if citesSpec.MatchString(sc.Text()) {
				t.Errorf("%s:%d cites the product spec, which a reader of this repository cannot open:\n\t%s\n"+
					"Write the rule this relies on in docs/ (in the project's own words) and point there instead; see docs/README.md.",
					path, n, strings.TrimSpace(sc.Text()))
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// textFile reports whether path is a file people read: sources, docs, scripts, configs.
func textFile(path string) bool {
	switch filepath.Ext(path) {
	case ".go", ".md", ".sh", ".yaml", ".yml", ".json", ".txt", ".toml", ".service", ".conf":
		return true
	}
	base := filepath.Base(path)
	return base == "Makefile" || base == "Dockerfile" || strings.HasPrefix(base, "README") ||
		filepath.Base(filepath.Dir(path)) == ".ci"
}
