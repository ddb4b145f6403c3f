// Package wordnet reads the WordNet 3.0 database and trains a 117,659-way
// synset classifier on it.
//
// # Overview
//
// TODO
package wordnet
