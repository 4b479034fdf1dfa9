using EquiSharp.Applications.Protein.Formats;
using EquiSharp.Applications.Protein.Mapping;

namespace EquiSharp.Tests.Applications.Protein;

public class MappingTests
{
    [Fact]
    public void Chain_overhanging_the_domain_maps_through_the_best_row_with_a_mutation()
    {
        // Columns:                 0123456789
        var aln = AlignmentReader.Parse(">far\nWWWWW-WWWW\n>near\nKLM-NPQRST\n>other\nAAAAAAAAAA\n", "a.fasta");
        // Chain: 3 extra residues, then the near row's residues KLMNPQRST with R→G, then 2 extra.
        string chain = "GGG" + "KLMNPQGST" + "YY";
        var map = ChainToAlignmentMapper.Map(chain, aln);
        Assert.Equal(1, map.RowIndex);
        Assert.Equal("near", map.RowName);
        int[] expected = [-1, -1, -1, 0, 1, 2, 4, 5, 6, 7, 8, 9, -1, -1];
        Assert.Equal(expected, map.ColumnOfResidue);
        Assert.Equal(9, map.Mapped);
        Assert.Equal(8, map.Identical);
        Assert.Equal(9.0 / 14, map.Coverage, 12);
        Assert.Equal(8.0 / 9, map.Identity, 12);
    }

    [Fact]
    public void A_residue_missing_from_the_structure_leaves_its_column_unused()
    {
        var aln = AlignmentReader.Parse(">r\nACDEFGHIKL\n");
        var map = ChainToAlignmentMapper.Map("ACDEGHIKL", aln);   // F (column 4) not in the chain
        Assert.Equal(new[] { 0, 1, 2, 3, 5, 6, 7, 8, 9 }, map.ColumnOfResidue);
        Assert.Equal(1.0, map.Identity);
        Assert.Equal(1.0, map.Coverage);
    }

    [Fact]
    public void An_insertion_in_the_chain_is_unmapped()
    {
        var aln = AlignmentReader.Parse(">r\nACDEFGHIKLMN\n");
        var map = ChainToAlignmentMapper.Map("ACDEFGWWHIKLMN", aln);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5, -1, -1, 6, 7, 8, 9, 10, 11 }, map.ColumnOfResidue);
        Assert.Equal(12, map.Mapped);
    }
}
