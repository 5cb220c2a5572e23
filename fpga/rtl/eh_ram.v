// The SoC's RAM behind eh_soc's RAM port: 2^ADDR_BITS bytes as 32-bit words, byte write enables,
// one-cycle registered read (the data of the address presented with ram_en arrives the next
// cycle). The RTL simulation and the ECP5 board use this module, so a program takes the same
// cycles in both (yosys maps it to block RAM: DP16KD on ECP5). The iCE40 top uses its SPRAMs
// instead, with the same timing. In simulation only, +mem=FILE preloads it ($readmemh, words).
`default_nettype none
module eh_ram #(
    parameter integer ADDR_BITS = 23
) (
    input  wire                 clk,
    input  wire                 en,
    input  wire [3:0]           we,
    input  wire [ADDR_BITS-3:0] addr,
    input  wire [31:0]          wdata,
    output reg  [31:0]          rdata
);
    reg [31:0] mem [0:(1 << (ADDR_BITS - 2)) - 1];

`ifndef SYNTHESIS
    reg [1023:0] memfile;
    initial begin
        if ($value$plusargs("mem=%s", memfile)) $readmemh(memfile, mem);
    end
`endif

    always @(posedge clk) begin
        if (en) begin
            if (we[0]) mem[addr][7:0]   <= wdata[7:0];
            if (we[1]) mem[addr][15:8]  <= wdata[15:8];
            if (we[2]) mem[addr][23:16] <= wdata[23:16];
            if (we[3]) mem[addr][31:24] <= wdata[31:24];
            rdata <= mem[addr];
        end
    end
endmodule
`default_nettype wire
