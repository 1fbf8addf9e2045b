"""The lists of oversight's data (issue 11): each module a filter, a table and a page."""
