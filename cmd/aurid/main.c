/* placeholder until the binary is written */
int main(void)
{
	return 1;
}
