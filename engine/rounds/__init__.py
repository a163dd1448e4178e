"""A step's rounds as people work them: the decision convention, rounds that follow a return for
revision, and drafts of a round's form kept on the server."""
