package api

// appendIndented appends src, compact JSON as json.Marshal writes it, to dst indented
// with two spaces per level, byte for byte as json.Indent(dst, src, "", "  ") would.
// json.Indent re-validates its input through the full JSON scanner, which was the largest
// single cost of encoding a page of the queue (100 posts, about 150 KB); output of
// json.Marshal is already valid and has no white space outside strings, so tracking
// strings, escapes and depth is enough. Input that is not such output is not supported.
func appendIndented(dst, src []byte) []byte {
	depth := 0
	open := false // just after '{' or '[': the newline waits, so that {} and [] stay as they are
	inString, escaped := false, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inString {
			// Copy the rest of the string up to its closing quote in one go.
			j := i
			for ; j < len(src); j++ {
				b := src[j]
				if escaped {
					escaped = false
					continue
				}
				if b == '\\' {
					escaped = true
					continue
				}
				if b == '"' {
					inString = false
					break
				}
			}
			if j == len(src) {
				return append(dst, src[i:]...)
			}
			dst = append(dst, src[i:j+1]...)
			i = j
			continue
		}
		if open && c != '}' && c != ']' {
			open = false
			depth++
			dst = appendIndentLine(dst, depth)
		}
		switch c {
		case '"':
			inString = true
			dst = append(dst, c)
		case '{', '[':
			open = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = appendIndentLine(dst, depth)
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if open {
				open = false
			} else {
				depth--
				dst = appendIndentLine(dst, depth)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendIndentLine(dst []byte, depth int) []byte {
	dst = append(dst, '\n')
	for range depth {
		dst = append(dst, ' ', ' ')
	}
	return dst
}
