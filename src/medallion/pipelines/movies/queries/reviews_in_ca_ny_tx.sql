-- Reviews written in California, New York and Texas: one row per state.
SELECT l.location AS state,
       SUM(f.review_count) AS reviews
FROM fact_movie_analytics AS f
JOIN dim_location AS l ON l.id_dim_location = f.id_dim_location
WHERE l.location IN ('California', 'New York', 'Texas')
GROUP BY l.location
ORDER BY state
