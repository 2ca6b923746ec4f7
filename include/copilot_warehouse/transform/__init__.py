"""Transform: dbt build/docs/lint over the warehouse and the data-quality lines of a build."""
