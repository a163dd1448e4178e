"""Finding instances by what people remember of them: a title, a document number, a school, a person."""
