"""The shop's FAQ: article files (articles/), their loader and the search engine (search/)."""
