-- Reviews written on Apple iOS and Apple MacOS in California, New York and Texas: per state and OS.
SELECT l.location AS state,
       o.os,
       SUM(f.review_count) AS reviews
FROM fact_movie_analytics AS f
JOIN dim_location AS l ON l.id_dim_location = f.id_dim_location
JOIN dim_os AS o ON o.id_dim_os = f.id_dim_os
WHERE l.location IN ('California', 'New York', 'Texas')
  AND o.os IN ('Apple iOS', 'Apple MacOS')
GROUP BY l.location, o.os
ORDER BY state, o.os
