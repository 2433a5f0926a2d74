/* placeholder */
int aurid_placeholder_exec(void);
int aurid_placeholder_exec(void)
{
	return 0;
}
