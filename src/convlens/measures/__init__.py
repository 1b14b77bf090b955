"""Everything that measures one of the lecture's claims, split by what is measured."""
