package queue

import "time"

// LoadZone reads the IANA time zone name given in field. Two names that time.LoadLocation
// takes are refused: "Local", which is whatever zone the host is set to, so that the same
// campaign would post at other hours after a move to another machine or container; and "",
// which it reads as UTC. Callers for which an empty zone means a default fill it in first.
func LoadZone(field, name string) (*time.Location, error) {
	if name == "" {
		return nil, Errorf(Invalid, field, "%s is empty: name an IANA time zone such as \"Europe/Paris\", \"America/New_York\" or \"UTC\"", field)
	}
	if name == "Local" {
		return nil, Errorf(Invalid, field, "%s \"Local\" is the host's zone, which changes with the machine tact runs on: name an IANA time zone such as \"Europe/Paris\", \"America/New_York\" or \"UTC\"", field)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, Errorf(Invalid, field, "unknown time zone %q in %s: name an IANA time zone such as \"Europe/Paris\", \"America/New_York\" or \"UTC\"", name, field)
	}
	return loc, nil
}
