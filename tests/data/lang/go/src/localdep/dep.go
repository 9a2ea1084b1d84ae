package localdep

// Name is what the fixture prints.
const Name = "localdep"
