-- Purchases of the customers who wrote reviews. amount_spent is a customer-level measure repeated on
-- each of the customer's fact rows, so it is taken once per customer before it is added up.
SELECT COUNT(*) AS customers,
       SUM(amount_spent) AS amount_spent
FROM (
    SELECT customer_id, MAX(amount_spent) AS amount_spent
    FROM fact_movie_analytics
    GROUP BY customer_id
) AS per_customer
