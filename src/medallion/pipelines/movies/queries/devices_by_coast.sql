-- Reviews per device on the East and West coasts. The coasts are the states with an ocean shoreline:
-- West = the Pacific states of the contiguous US (California, Oregon, Washington);
-- East = the 14 Atlantic states from Maine to Florida.
WITH coast (location, coast) AS (
    VALUES ('California', 'West'), ('Oregon', 'West'), ('Washington', 'West'),
           ('Maine', 'East'), ('New Hampshire', 'East'), ('Massachusetts', 'East'), ('Rhode Island', 'East'),
           ('Connecticut', 'East'), ('New York', 'East'), ('New Jersey', 'East'), ('Delaware', 'East'),
           ('Maryland', 'East'), ('Virginia', 'East'), ('North Carolina', 'East'), ('South Carolina', 'East'),
           ('Georgia', 'East'), ('Florida', 'East')
)
SELECT c.coast,
       v.device,
       SUM(f.review_count) AS reviews
FROM fact_movie_analytics AS f
JOIN dim_location AS l ON l.id_dim_location = f.id_dim_location
JOIN coast AS c ON c.location = l.location
JOIN dim_devices AS v ON v.id_dim_devices = f.id_dim_devices
GROUP BY c.coast, v.device
ORDER BY c.coast, reviews DESC, v.device
