"""Publications: frozen, disclosed vintages of a period for funders and the public."""
