package xtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tact-hq/tact/plugins/internal/faketest"
)

// upload is a media upload session.
type upload struct {
	id, mediaType, category string
	total                   int64
	segments                map[int][]byte
	finalized               bool
	pollsLeft               int
	alt                     string
	expires                 time.Time
}

// categoryLimits are X's upload size limits by media category (docs.x.com, media best
// practices).
var categoryLimits = map[string]int64{"tweet_image": 5 << 20, "tweet_gif": 15 << 20, "tweet_video": 512 << 20}

var mediaTypes = map[string][]string{
	"tweet_image": {"image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp", "image/pjpeg", "image/tiff"},
	"tweet_gif":   {"image/gif"},
	"tweet_video": {"video/mp4", "video/quicktime", "video/webm", "video/mp2t"},
}

// MediaAlt returns the alt text set on a media id ("" if none or unknown).
func (s *Server) MediaAlt(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.media[id]; m != nil {
		return m.alt
	}
	return ""
}

func mediaData(m *upload) map[string]any {
	return map[string]any{"id": m.id, "media_key": mediaKey(m), "expires_after_secs": 86400}
}

func mediaKey(m *upload) string {
	prefix := "3_"
	switch m.category {
	case "tweet_video":
		prefix = "7_"
	case "tweet_gif":
		prefix = "16_"
	}
	return prefix + m.id
}

func (s *Server) initUpload(w http.ResponseWriter, r *http.Request) {
	var in struct {
		MediaType     string `json:"media_type"`
		TotalBytes    int64  `json:"total_bytes"`
		MediaCategory string `json:"media_category"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		invalidRequest(w, "Invalid JSON: "+err.Error())
		return
	}
	limit, ok := categoryLimits[in.MediaCategory]
	switch {
	case !ok:
		invalidRequest(w, fmt.Sprintf("media_category %q is not one of tweet_image, tweet_gif, tweet_video", in.MediaCategory))
		return
	case !contains(mediaTypes[in.MediaCategory], in.MediaType):
		invalidRequest(w, fmt.Sprintf("media_type %q is not accepted for %s", in.MediaType, in.MediaCategory))
		return
	case in.TotalBytes <= 0 || in.TotalBytes > limit:
		invalidRequest(w, fmt.Sprintf("File size exceeds %d bytes.", limit))
		return
	}
	s.mu.Lock()
	m := &upload{id: s.nextID(), mediaType: in.MediaType, category: in.MediaCategory, total: in.TotalBytes,
		segments: map[int][]byte{}, expires: s.Now().Add(24 * time.Hour)}
	s.media[m.id] = m
	s.mu.Unlock()
	faketest.WriteJSON(w, 200, map[string]any{"data": mediaData(m)})
}

func (s *Server) appendUpload(w http.ResponseWriter, r *http.Request, id string) {
	if err := r.ParseMultipartForm(64 << 20); err != nil {
		invalidRequest(w, "The request must be multipart/form-data with media and segment_index")
		return
	}
	seg, err := strconv.Atoi(r.FormValue("segment_index"))
	if err != nil || seg < 0 || seg > 999 {
		invalidRequest(w, "segment_index must be between 0 and 999")
		return
	}
	f, _, err := r.FormFile("media")
	if err != nil {
		invalidRequest(w, "media is required")
		return
	}
	data, _ := io.ReadAll(f)
	f.Close()
	s.mu.Lock()
	m := s.media[id]
	if m == nil || m.finalized {
		s.mu.Unlock()
		invalidRequest(w, "media_id "+id+" is not an upload in progress")
		return
	}
	m.segments[seg] = data
	expires := m.expires
	s.mu.Unlock()
	faketest.WriteJSON(w, 200, map[string]any{"data": map[string]any{"expires_at": expires.Unix()}})
}

func (s *Server) finalizeUpload(w http.ResponseWriter, id string) {
	s.mu.Lock()
	m := s.media[id]
	if m == nil {
		s.mu.Unlock()
		invalidRequest(w, "media_id "+id+" is not an upload in progress")
		return
	}
	var data []byte
	for i := 0; i < len(m.segments); i++ {
		seg, ok := m.segments[i]
		if !ok {
			s.mu.Unlock()
			invalidRequest(w, fmt.Sprintf("Segment %d is missing", i))
			return
		}
		data = append(data, seg...)
	}
	if int64(len(data)) != m.total {
		s.mu.Unlock()
		invalidRequest(w, fmt.Sprintf("File size mismatch: total_bytes was %d, %d bytes were appended", m.total, len(data)))
		return
	}
	if !m.finalized {
		m.finalized = true
		s.uploads = append(s.uploads, data)
		if m.category != "tweet_image" {
			m.pollsLeft = s.ProcessingPolls
		}
	}
	out := mediaData(m)
	out["size"] = m.total
	if m.category != "tweet_image" {
		out["processing_info"] = processing(m)
	}
	s.mu.Unlock()
	faketest.WriteJSON(w, 200, map[string]any{"data": out})
}

func processing(m *upload) map[string]any {
	if m.pollsLeft > 0 {
		return map[string]any{"state": "in_progress", "check_after_secs": 1, "progress_percent": 50}
	}
	return map[string]any{"state": "succeeded", "progress_percent": 100}
}

func (s *Server) uploadStatus(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if c := q.Get("command"); c != "" && c != "STATUS" {
		invalidRequest(w, "command must be STATUS")
		return
	}
	s.mu.Lock()
	m := s.media[q.Get("media_id")]
	if m == nil || !m.finalized {
		s.mu.Unlock()
		invalidRequest(w, "media_id "+q.Get("media_id")+" is not a finalized upload")
		return
	}
	out := mediaData(m)
	out["processing_info"] = processing(m)
	if m.pollsLeft > 0 {
		m.pollsLeft--
	}
	s.mu.Unlock()
	faketest.WriteJSON(w, 200, map[string]any{"data": out})
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID       string `json:"id"`
		Metadata struct {
			AltText struct {
				Text string `json:"text"`
			} `json:"alt_text"`
		} `json:"metadata"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		invalidRequest(w, "Invalid JSON: "+err.Error())
		return
	}
	if utf8.RuneCountInString(in.Metadata.AltText.Text) > 1000 {
		invalidRequest(w, "$.metadata.alt_text.text: size must be between 0 and 1000")
		return
	}
	s.mu.Lock()
	m := s.media[in.ID]
	if m != nil {
		m.alt = in.Metadata.AltText.Text
	}
	s.mu.Unlock()
	if m == nil {
		invalidRequest(w, "media id "+in.ID+" is unknown")
		return
	}
	faketest.WriteJSON(w, 200, map[string]any{"data": map[string]any{"id": in.ID, "associated_metadata": map[string]any{"alt_text": map[string]string{"text": in.Metadata.AltText.Text}}}})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
