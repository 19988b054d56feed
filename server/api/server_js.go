//go:build js

package api

import (
	"errors"
	"net/http"
)

// Server is the API; in the browser build it does not exist (SQLite and the
// training server are native only), and New says so.
type Server struct{}

// New returns an error: the API is native only.
func New(cfg Config) (*Server, error) { return nil, errors.New("api: not available in js/wasm") }

// ServeHTTP answers 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }

// Close does nothing.
func (s *Server) Close() error { return nil }

// EndStreams does nothing.
func (s *Server) EndStreams() {}
