package main

import (
	"context"
	"sync"
)

// memStore is an objectStore in memory; err, when set, is what every call returns.
type memStore struct {
	mu      sync.Mutex
	objects map[string][]byte
	types   map[string]string
	err     error
}

func newMemStore() *memStore {
	return &memStore{objects: map[string][]byte{}, types: map[string]string{}}
}

func (m *memStore) Put(_ context.Context, key string, body []byte, contentType string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.objects[key] = append([]byte(nil), body...)
	m.types[key] = contentType
	return nil
}

func (m *memStore) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	body, ok := m.objects[key]
	if !ok {
		return nil, errNotFound
	}
	return body, nil
}
