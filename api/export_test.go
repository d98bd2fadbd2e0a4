package api

// FlushAudit waits until the denials and authentication failures queued so
// far are written (or dropped): tests read them back without sleeping.
func FlushAudit(s *Server) { s.audit.flush() }
