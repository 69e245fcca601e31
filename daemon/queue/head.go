package queue

// CampaignHead is what a page of posts needs of each post's campaign: the time zone its
// times are shown in, and the topics the safety warnings match against. A page of the queue
// touches up to one campaign per post; reading whole campaigns for it decoded every list
// they hold (the text pool above all), most of a page's cost while an incident is open
// (docs/performance.md).
type CampaignHead struct {
	ID       int64
	TimeZone string
	Topics   []string
}

// Campaign returns the head as a Campaign that holds only ID, TimeZone and Topics, for
// readers that need no more of a campaign (the safety warnings of a post).
func (h CampaignHead) Campaign() *Campaign {
	return &Campaign{ID: h.ID, TimeZone: h.TimeZone, Topics: h.Topics}
}
