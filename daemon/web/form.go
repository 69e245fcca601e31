package web

import (
	"maps"
	"net/url"
	"slices"

	"github.com/tact-hq/tact/daemon/queue"
)

// formUTF8 refuses a form holding text that is not UTF-8, naming the field. Browsers send
// this UI's forms in UTF-8 (the pages say charset=utf-8), so such a form comes from a
// script or a proxy that re-encoded it; taken as it is, the text would fail at every
// plugin call (protobuf strings are UTF-8). An uploaded CSV file is checked, by line and
// column, by the importer.
func formUTF8(form url.Values) error {
	for _, k := range slices.Sorted(maps.Keys(form)) {
		if err := queue.CheckUTF8("the name of a form field", k); err != nil {
			return err
		}
		for _, v := range form[k] {
			if err := queue.CheckUTF8(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}
